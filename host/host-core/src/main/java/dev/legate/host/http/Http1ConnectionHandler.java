package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpUpgrades;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.network.CloseType;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.listener.DownstreamConnection;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/1.1 side of Envoy's {@code ConnectionManagerImpl} for one downstream connection: turns Netty's
 * decoded {@link HttpObject}s into streams (one at a time; pipelined requests wait), answers protocol errors
 * (400, 426, 431) and writes responses back through {@code HttpServerCodec}.
 *
 * <p>Upgrades (Envoy's {@code http1/codec_impl.cc} {@code handling_upgrade_}): after the head of a request with
 * {@code connection: upgrade} and {@code upgrade} (not {@code h2c}), the request decoder leaves the pipeline and
 * every further byte is request body for the stream; the request never ends before the peer's FIN. A {@code 101}
 * answer to an accepted upgrade is written with its {@code upgrade}/{@code connection} headers, then the whole
 * codec leaves and response data is written raw: the connection is a byte tunnel until one side ends, and it
 * closes after the stream (flushing what was written). Any other answer is an ordinary response, after which the
 * connection closes (the request never completed).
 *
 * <p>Sits at the end of the connection's pipeline, after the codec; confined to the channel's event loop.
 * Every {@link HttpObject} it receives is released exactly once: headers objects here, body buffers by the
 * stream they are handed to.
 */
final class Http1ConnectionHandler extends ChannelInboundHandlerAdapter implements ServerCodecConnection {

    private static final Logger log = LoggerFactory.getLogger(Http1ConnectionHandler.class);

    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    /** Queued when the peer half-closes an upgrading connection: the end of the request body. */
    private static final Object END_OF_INPUT = new Object();

    private final DownstreamConnection conn;
    private final HttpConnectionManagerConfig config;
    private final ConnectionManagerStats stats;
    private final Dispatcher dispatcher;
    private final Ticker ticker;
    /** Decoded {@link HttpObject}s, and raw {@link ByteBuf}s / {@link #END_OF_INPUT} once upgrading. */
    private final ArrayDeque<Object> pending = new ArrayDeque<>(2);
    /** Request heads that arrived while an earlier request was still in progress (decoded ahead). */
    private final Set<Object> pipelined = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Runnable flushTask = this::runFlush;
    private long startNanos;
    private ChannelHandlerContext ctx;
    private ActiveStream stream;
    private boolean draining;
    private boolean drainScheduled;
    private boolean readsHeld;
    /** The request headers said no body follows: the codec's empty LastHttpContent is dropped. */
    private boolean swallowNextLast;
    /** The connection closes once the current response is written (connection: close, errors). */
    private boolean closeAfterResponse;
    private boolean closed;
    /** This side asked for the close (for downstream_cx_destroy_local vs _remote). */
    private boolean localClose;
    private boolean aboveHighWatermark;
    private boolean flushScheduled;
    private long idleSinceNanos;
    private Dispatcher.Timer idleTimer;
    /** An upgrade request's head was read: the request decoder is gone, inbound bytes are raw body. */
    private boolean upgrading;
    /** A 101 was written: the codec is gone, response data is written raw. */
    private boolean tunnel;

    Http1ConnectionHandler(DownstreamConnection conn, HttpConnectionManagerConfig config,
                           ConnectionManagerStats stats) {
        this.conn = conn;
        this.config = config;
        this.stats = stats;
        this.dispatcher = conn.dispatcher();
        this.ticker = conn.dispatcher().eventLoop().ticker();
    }

    // ---------------------------------------------------------------- accessors for streams

    @Override
    public long nanoTime() {
        return ticker.nanoTime();
    }

    @Override
    public long id() {
        return conn.id();
    }

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public int bufferLimit() {
        return conn.bufferLimit();
    }

    @Override
    public ClusterManager clusterManager() {
        return conn.clusterManager();
    }

    @Override
    public boolean aboveHighWatermark() {
        return aboveHighWatermark;
    }

    @Override
    public void readDisable(ActiveStream s, boolean disable) {
        if (!closed) {
            conn.readDisable(disable);
        }
    }

    // ---------------------------------------------------------------- ChannelHandler

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        startNanos = nanoTime();
        idleSinceNanos = startNanos;
        stats.cxTotal.inc();
        stats.cxHttp1Total.inc();
        stats.cxActive.inc();
        stats.cxHttp1Active.inc();
        aboveHighWatermark = !ctx.channel().isWritable();
        long idle = config.connectionIdleTimeoutMillis();
        if (idle > 0) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, idle, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        onClosed(false);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        onClosed(true);
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject) && !(upgrading && msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (closed || closeAfterResponse && stream == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest && (stream != null || !pending.isEmpty())) {
            pipelined.add(msg);
        }
        pending.add(msg);
        drain();
    }

    /**
     * The peer half-closed (FIN). Listeners allow half-closure for L4 filters, but HTTP/1.1 has no use for a
     * half-open connection (Envoy does not enable half-close on HTTP connections): the response to a complete
     * request is still sent, then the connection closes; otherwise it closes now.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (upgrading && stream != null && !stream.remoteComplete && !closed) {
                // The end of the upgraded request: forwarded upstream (a half-close) after the bytes before it.
                pending.add(END_OF_INPUT);
                drain();
            } else if (stream != null && stream.remoteComplete) {
                closeAfterResponse = true;
            } else if (!closed) {
                conn.close(CloseType.NO_FLUSH);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean above = !ctx.channel().isWritable();
        if (above != aboveHighWatermark) {
            aboveHighWatermark = above;
            if (stream != null) {
                stream.fireWatermark(above);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {}: {}", conn.id(), cause.toString());
        if (cause instanceof DecoderException && stream != null && !closed) {
            // E.g. the codec's pipelining depth (128) was exceeded: finish the current response, then close.
            closeAfterResponse = true;
            return;
        }
        closeNow();
    }

    // ---------------------------------------------------------------- dispatch

    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!pending.isEmpty() && !closed) {
                if (stream != null && stream.remoteComplete) {
                    // A pipelined request waits for the current response; stop reading meanwhile.
                    if (!readsHeld) {
                        readsHeld = true;
                        conn.readDisable(true);
                    }
                    return;
                }
                if (closeAfterResponse && stream == null) {
                    break;
                }
                Object o = pending.poll();
                try {
                    dispatch(o);
                } catch (RuntimeException e) {
                    log.warn("connection {}: error while handling a request; closing", conn.id(), e);
                    if (stream != null) {
                        stream.resetStream();
                    }
                    closeNow();
                }
            }
            if (closed || closeAfterResponse && stream == null) {
                releasePending();
            }
        } finally {
            draining = false;
        }
    }

    private void dispatch(Object o) {
        if (o == END_OF_INPUT) {
            if (stream != null && !stream.remoteComplete) {
                stream.decodeDataFromCodec(Unpooled.EMPTY_BUFFER, true);
            }
            return;
        }
        if (o instanceof ByteBuf raw) {
            onRawData(raw);
            return;
        }
        if (o instanceof HttpRequest req) {
            try {
                onRequestHeaders(req, pipelined.remove(req));
            } finally {
                if (o instanceof HttpContent) {
                    ReferenceCountUtil.release(o); // a DefaultFullHttpRequest made for a bad message
                }
            }
            return;
        }
        if (o instanceof HttpContent c) {
            onContent(c);
            return;
        }
        ReferenceCountUtil.release(o);
    }

    /**
     * {@code pipelinedBehind}: the head arrived while an earlier request was in progress. Netty's decoder has then
     * parsed the bytes after it as HTTP, so an upgrade's early tunnel bytes are gone: such an upgrade is refused
     * with 400 and the connection closed (Envoy's codec pauses after each message and tunnels them; Legate's
     * decoder cannot pause, and browsers never pipeline an upgrade).
     */
    private void onRequestHeaders(HttpRequest req, boolean pipelinedBehind) {
        swallowNextLast = false;
        DecoderResult dr = req.decoderResult();
        if (dr.isFailure()) {
            Throwable cause = dr.cause();
            if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongHttpLineException
                    || cause instanceof TooLongFrameException) {
                protocolError(431, "http1.headers_too_large");
            } else {
                protocolError(400, "http1.codec_error");
            }
            return;
        }
        if (stream != null) {
            // Cannot happen with HttpServerCodec: a new message only after the previous one's last content.
            protocolError(400, "http1.codec_error");
            return;
        }
        HttpVersion v = req.protocolVersion();
        if (v.majorVersion() != 1 || v.minorVersion() != 1) {
            if (v.majorVersion() == 1 && v.minorVersion() == 0 || v.majorVersion() == 0) {
                protocolError(426, "low_version");
            } else {
                protocolError(400, "http1.codec_error");
            }
            return;
        }
        boolean endStream = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0L;
        int headerCount = req.headers().size();
        NettyHeaderMap headers = NettyHeaderMap.ofRequest(req);
        // An upgrade without a framed body (Envoy's handling_upgrade_): what follows the head is raw payload.
        // h2c is never honoured (served as a plain request, its upgrade headers stripped as hop-by-hop).
        boolean upgrade = endStream && HttpUpgrades.isUpgrade(headers) && !HttpUpgrades.isH2cUpgrade(headers);
        if (upgrade) {
            endStream = false;
        }
        ActiveStream s = newStream();
        s.head = HttpMethod.HEAD.equals(req.method());
        s.requestHeaders = headers;
        if (headerCount > config.maxHeadersCount()
                || headers.byteSize() > config.maxRequestHeadersBytes()) {
            protocolError(431, "http1.headers_too_large");
            return;
        }
        String uri = req.uri();
        if (!uri.startsWith("/") && !absoluteUri(headers, uri) && !"*".equals(uri)) {
            protocolError(400, "http1.codec_error");
            return;
        }
        headers.set(HeaderMap.SCHEME, "http");
        s.grpc = LocalReplies.isGrpc(headers);
        HttpHeaders h = req.headers();
        s.sawConnectionClose = h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
        if (HttpUtil.is100ContinueExpected(req) && !config.proxy100Continue()) {
            h.remove(HttpHeaderNames.EXPECT);
            write1xx(s, null);
        }
        if (upgrade && pipelinedBehind) {
            protocolError(400, "http1.pipelined_upgrade");
            return;
        }
        if (upgrade) {
            stripForUpgrade(h);
            startUpgrading();
        } else {
            stripHopByHop(h);
        }
        if (endStream) {
            swallowNextLast = true;
        }
        if (headers.authority() == null || headers.authority().isEmpty()) {
            // A malformed request, like the codec's errors: 400, then the connection closes.
            s.remoteComplete = endStream;
            closeAfterResponse = true;
            s.sendLocalReply(400, "", null, "missing_host_header");
            return;
        }
        config.mutateRequestHeaders(headers, s.info);
        s.createFilterChain();
        s.decodeHeadersFromCodec(endStream);
    }

    /** An absolute-form request target: {@code :authority} and {@code :path} from the URI. */
    private static boolean absoluteUri(NettyHeaderMap headers, String uri) {
        if (!uri.regionMatches(true, 0, "http://", 0, 7) && !uri.regionMatches(true, 0, "https://", 0, 8)) {
            return false;
        }
        try {
            URI u = new URI(uri);
            if (u.getRawAuthority() == null) {
                return false;
            }
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            if (u.getRawQuery() != null) {
                path = path + "?" + u.getRawQuery();
            }
            headers.set(HeaderMap.AUTHORITY, u.getRawAuthority());
            headers.set(HeaderMap.PATH, path);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * An upgrade request keeps {@code connection} and {@code upgrade} (forwarded verbatim, Envoy's
     * {@code mutateRequestHeaders}); the other hop-by-hop headers go.
     */
    static void stripForUpgrade(HttpHeaders h) {
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
    }

    /**
     * Takes the request decoder out of the pipeline: bytes it already read past the request head come back
     * through {@link #channelRead} as raw buffers (queued behind the head being handled), as does every later read.
     */
    private void startUpgrading() {
        upgrading = true;
        HttpServerCodec codec = ctx.pipeline().get(HttpServerCodec.class);
        if (codec != null) {
            codec.removeInboundHandler();
        }
    }

    /** Raw bytes of an upgrading connection: request body of the current stream. */
    private void onRawData(ByteBuf raw) {
        if (stream == null || stream.remoteComplete || !raw.isReadable()) {
            raw.release();
            return;
        }
        stream.decodeDataFromCodec(raw, false);
    }

    /** Removes hop-by-hop request headers (Envoy's {@code ConnectionManagerUtility} + HTTP/1 codec). */
    static void stripHopByHop(HttpHeaders h) {
        List<String> nominated = h.getAll(HttpHeaderNames.CONNECTION);
        if (!nominated.isEmpty()) {
            List<String> names = new ArrayList<>(2);
            for (String v : nominated) {
                for (String t : v.split(",")) {
                    String name = t.trim();
                    if (!name.isEmpty()) {
                        names.add(name);
                    }
                }
            }
            for (String name : names) {
                if (!TRAILERS.contentEqualsIgnoreCase(name) && !HttpHeaderNames.TE.contentEqualsIgnoreCase(name)) {
                    h.remove(name);
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
        List<String> te = h.getAll(HttpHeaderNames.TE);
        if (!te.isEmpty()) {
            boolean trailers = false;
            for (String v : te) {
                for (String t : v.split(",")) {
                    String token = t.trim();
                    int semi = token.indexOf(';');
                    if (semi >= 0) {
                        token = token.substring(0, semi).trim();
                    }
                    if (TRAILERS.contentEqualsIgnoreCase(token)) {
                        trailers = true;
                    }
                }
            }
            if (trailers) {
                h.set(HttpHeaderNames.TE, TRAILERS);
            } else {
                h.remove(HttpHeaderNames.TE);
            }
        }
    }

    private void onContent(HttpContent c) {
        if (upgrading) {
            // The codec's empty end of the upgrade request's head (it was decoded before the decoder left).
            onRawData(c.content());
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (c.decoderResult().isFailure()) {
            c.release();
            protocolError(400, "http1.codec_error");
            return;
        }
        if (last && swallowNextLast) {
            swallowNextLast = false;
            c.release();
            return;
        }
        if (stream == null || stream.remoteComplete) {
            c.release();
            return;
        }
        // Request trailers are dropped on HTTP/1 (Envoy's default: enable_trailers false).
        stream.decodeDataFromCodec(c.content(), last);
    }

    private ActiveStream newStream() {
        StreamInfoImpl info = new StreamInfoImpl(conn.remoteAddress(), conn.localAddress(), "HTTP/1.1");
        ActiveStream s = new ActiveStream(this, config, stats, info, dispatcher);
        stats.rqHttp1Total.inc();
        stream = s;
        return s;
    }

    /**
     * A codec error (Envoy's {@code ServerConnectionImpl::sendProtocolError}): a local reply with the status's
     * reason phrase as the body, flag DPE, and the connection closed after it.
     */
    private void protocolError(int status, String details) {
        stats.cxProtocolError.inc();
        closeAfterResponse = true;
        swallowNextLast = false;
        ActiveStream s = stream != null ? stream : newStream();
        s.info.setResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
        s.sendLocalReply(status, StatusLines.of(status).reasonPhrase(), null, details);
    }

    // ---------------------------------------------------------------- writes (from the stream)

    @Override
    public void write1xx(ActiveStream s, HeaderMap headers) {
        if (closed) {
            return;
        }
        stats.rq1xx.inc();
        HttpResponseStatus status = headers == null ? HttpResponseStatus.CONTINUE
                : StatusLines.of(headers.status());
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER);
        if (headers != null) {
            r.headers().add(NettyHeaderMap.toNettyHeaders(headers));
        }
        ctx.writeAndFlush(r, ctx.voidPromise());
    }

    @Override
    public void writeResponseHeaders(ActiveStream s, HeaderMap headers, boolean endStream) {
        if (closed) {
            return;
        }
        if (!s.remoteComplete && (endStream || s.decoderAborted)) {
            // The response ends before the request: HTTP/1.1 cannot go on (see onStreamDestroyed).
            closeAfterResponse = true;
        }
        if (s.sawConnectionClose) {
            closeAfterResponse = true;
        }
        HttpHeaders h = headers instanceof NettyHeaderMap n ? n.nettyHeaders() : NettyHeaderMap.toNettyHeaders(headers);
        if (upgrading && s.upgradeAccepted && headers.status() == 101 && !endStream) {
            writeSwitchingProtocols(h);
            return;
        }
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.UPGRADE);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        int status = headers.status();
        if (status == 0) {
            status = 200;
        }
        boolean noBody = status == 204 || status == 304 || status < 200;
        if (noBody) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
        } else if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            if (endStream) {
                if (!s.head) {
                    h.set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO);
                }
            } else {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
        if (closeAfterResponse) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, StatusLines.of(status), h),
                ctx.voidPromise());
        if (endStream) {
            ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
            ctx.flush();
        } else {
            flushLater();
        }
    }

    /**
     * The 101 of an accepted upgrade: {@code upgrade} and {@code connection} stay (Envoy's
     * {@code mutateResponseHeaders} for upgrades), no framing headers; then the codec leaves the pipeline and the
     * connection is a byte tunnel.
     */
    private void writeSwitchingProtocols(HttpHeaders h) {
        h.remove(KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.CONTENT_LENGTH);
        ctx.write(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS, h),
                ctx.voidPromise());
        ctx.write(LastHttpContent.EMPTY_LAST_CONTENT, ctx.voidPromise());
        HttpServerCodec codec = ctx.pipeline().get(HttpServerCodec.class);
        if (codec != null) {
            ctx.pipeline().remove(codec);
        }
        tunnel = true;
        flushLater();
    }

    @Override
    public void writeResponseData(ActiveStream s, ByteBuf data, boolean endStream) {
        if (tunnel) {
            writeTunnelData(data, endStream);
            return;
        }
        if (closed || s.head) {
            if (data != null) {
                data.release();
            }
            data = null;
            if (closed) {
                return;
            }
        }
        if (endStream) {
            ctx.write(data == null ? LastHttpContent.EMPTY_LAST_CONTENT
                    : data.isReadable() ? new DefaultLastHttpContent(data) : releaseAndEmptyLast(data),
                    ctx.voidPromise());
            ctx.flush();
            return;
        }
        if (data == null) {
            return;
        }
        if (!data.isReadable()) {
            data.release(); // an empty chunk would end a chunked message
            return;
        }
        ctx.write(new DefaultHttpContent(data), ctx.voidPromise());
        flushLater();
    }

    /** Raw response bytes after a 101; the end flushes (the connection closes when the stream is destroyed). */
    private void writeTunnelData(ByteBuf data, boolean endStream) {
        if (closed) {
            if (data != null) {
                data.release();
            }
            return;
        }
        if (data != null && data.isReadable()) {
            ctx.write(data, ctx.voidPromise());
        } else if (data != null) {
            data.release();
        }
        if (endStream) {
            ctx.flush();
        } else {
            flushLater();
        }
    }

    /** HTTP/1.1 response trailers are dropped (Envoy's default: {@code enable_trailers} false); the message ends. */
    @Override
    public void writeResponseTrailers(ActiveStream s, HeaderMap trailers) {
        writeResponseData(s, null, true);
    }

    private static LastHttpContent releaseAndEmptyLast(ByteBuf data) {
        data.release();
        return LastHttpContent.EMPTY_LAST_CONTENT;
    }

    /** Flushes once at the end of the current loop task, so that headers and a first body chunk coalesce. */
    private void flushLater() {
        if (!flushScheduled) {
            flushScheduled = true;
            dispatcher.execute(flushTask);
        }
    }

    private void runFlush() {
        flushScheduled = false;
        if (!closed) {
            ctx.flush();
        }
    }

    // ---------------------------------------------------------------- stream end, close

    @Override
    public void onStreamDestroyed(ActiveStream s) {
        if (stream != s) {
            return;
        }
        stream = null;
        idleSinceNanos = nanoTime();
        if (upgrading) {
            // Nothing HTTP can follow an upgrade request on this connection.
            closeAfterResponse = true;
        } else if (!s.remoteComplete) {
            // Envoy's doEndStream: a stream that ends before its request on HTTP/1 takes the connection with it.
            if (s.codecComplete) {
                stats.rqResponseBeforeRqComplete.inc();
            }
            closeAfterResponse = true;
        }
        if (readsHeld) {
            readsHeld = false;
            conn.readDisable(false);
        }
        if (closed) {
            return;
        }
        if (closeAfterResponse) {
            releasePending();
            localClose = true;
            conn.close(CloseType.FLUSH_WRITE);
            return;
        }
        if (!pending.isEmpty() && !draining && !drainScheduled) {
            drainScheduled = true;
            dispatcher.execute(() -> {
                drainScheduled = false;
                drain();
            });
        }
    }

    /** A reset on HTTP/1.1 closes the connection at once. */
    @Override
    public void resetStream(ActiveStream s) {
        closeNow();
    }

    /** Closes the connection at once. */
    void closeNow() {
        if (!closed) {
            localClose = true;
            conn.close(CloseType.NO_FLUSH);
        }
    }

    private void onIdleTimer() {
        idleTimer = null;
        long timeout = config.connectionIdleTimeoutMillis();
        if (closed || timeout <= 0) {
            return;
        }
        long next = timeout;
        if (stream == null && pending.isEmpty()) {
            long idleFor = TimeUnit.NANOSECONDS.toMillis(nanoTime() - idleSinceNanos);
            if (idleFor >= timeout) {
                stats.cxIdleTimeout.inc();
                localClose = true;
                conn.close(CloseType.FLUSH_WRITE);
                return;
            }
            next = timeout - idleFor;
        }
        idleTimer = dispatcher.schedule(this::onIdleTimer, next, TimeUnit.MILLISECONDS);
    }

    private void onClosed(boolean inactive) {
        if (closed) {
            return;
        }
        closed = true;
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
        if (stream != null) {
            stats.cxDestroyActiveRq.inc();
            stream.onConnectionClosed();
            stream = null;
        }
        releasePending();
        stats.cxDestroy.inc();
        if (localClose) {
            stats.cxDestroyLocal.inc();
        } else {
            stats.cxDestroyRemote.inc();
        }
        stats.cxActive.dec();
        stats.cxHttp1Active.dec();
        stats.cxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(nanoTime() - startNanos));
    }

    private void releasePending() {
        pipelined.clear();
        Object o;
        while ((o = pending.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }
}
