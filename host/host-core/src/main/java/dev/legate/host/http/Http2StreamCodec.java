package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpUpgrades;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.listener.DownstreamConnection;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 stream of a downstream connection: the handler of a Netty {@code Http2StreamChannel} (a child of
 * {@code Http2MultiplexHandler}) and the {@link ServerCodecConnection} of the stream's {@link ActiveStream}.
 * Envoy's {@code Http2::ServerConnectionImpl::ServerStreamImpl} (source/common/http/http2/codec_impl.cc) plus the
 * HTTP/2 side of {@code ConnectionManagerImpl::newStream}.
 *
 * <p>Request headers become the same pseudo-header map the HTTP/1.1 codec produces ({@code :method},
 * {@code :path}, {@code :authority}, {@code :scheme}; {@code host} folded into {@code :authority}, split
 * {@code cookie} headers joined with {@code "; "}), so filters are codec-agnostic. An extended CONNECT
 * (RFC 8441, {@code :protocol}) is turned into the HTTP/1.1 upgrade form and its 101 back into 200
 * ({@code Utility::transformUpgradeRequestFromH2toH1} / {@code transformUpgradeResponseFromH1toH2}).
 *
 * <p>Flow control: {@link #readDisable} turns the stream channel's {@code autoRead} off, so its DATA frames wait
 * in the channel and their bytes are not returned to the peer's window; the write side's watermark is the
 * stream channel's writability (the peer's stream window, the connection window and the socket's buffer).
 *
 * <p>Confined to the connection's event loop (the stream channel shares its parent's loop). Frames read here are
 * released here, except DATA payloads, which go to the {@link ActiveStream} (it releases them).
 */
final class Http2StreamCodec extends ChannelInboundHandlerAdapter implements ServerCodecConnection {

    private static final Logger log = LoggerFactory.getLogger(Http2StreamCodec.class);

    private static final AsciiString COOKIE = AsciiString.cached("cookie");
    private static final AsciiString HOST = AsciiString.cached("host");
    private static final AsciiString CONNECT = AsciiString.cached("CONNECT");
    private static final AsciiString TE = AsciiString.cached("te");
    private static final AsciiString TRAILERS = AsciiString.cached("trailers");
    private static final String PROTOCOL = ":protocol";

    private final Http2ServerConnection parent;
    private final DownstreamConnection conn;
    private final HttpConnectionManagerConfig config;
    private final ConnectionManagerStats stats;
    private final Http2CodecStats h2stats;
    private final Dispatcher dispatcher;
    private final Runnable flushTask = this::runFlush;
    private ChannelHandlerContext ctx;
    private Channel ch;
    private ActiveStream stream;
    private boolean headersSeen;
    private boolean flushScheduled;
    private boolean resetSent;
    private boolean peerReset;
    /** An extended CONNECT: the response's 101 goes out as 200. */
    private boolean h2Upgrade;
    private int readDisables;
    private boolean aboveHighWatermark;
    /** The write of the frame that ends the response (END_STREAM); completes once it is on the wire. */
    private ChannelFuture endFuture;
    /** Bounds a reset deferred until {@link #endFuture} is done. */
    private Dispatcher.Timer deferredResetTimer;

    Http2StreamCodec(Http2ServerConnection parent) {
        this.parent = parent;
        this.conn = parent.connection();
        this.config = parent.config();
        this.stats = parent.stats();
        this.h2stats = parent.h2stats();
        this.dispatcher = conn.dispatcher();
    }

    // ---------------------------------------------------------------- ServerCodecConnection

    @Override
    public long nanoTime() {
        return parent.nanoTime();
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

    /** Counted: the first disable stops reading the stream channel, the last enable resumes it. */
    @Override
    public void readDisable(ActiveStream s, boolean disable) {
        if (disable) {
            if (readDisables++ == 0) {
                ch.config().setAutoRead(false);
            }
        } else if (readDisables > 0 && --readDisables == 0) {
            ch.config().setAutoRead(true);
        }
    }

    @Override
    public void write1xx(ActiveStream s, HeaderMap headers) {
        if (!writable(s)) {
            return;
        }
        stats.rq1xx.inc();
        Http2Headers h = new DefaultHttp2Headers(false);
        h.status(headers == null ? "100" : Integer.toString(headers.status()));
        if (headers != null) {
            copyResponseHeaders(headers, h);
        }
        ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, false), ctx.voidPromise());
    }

    @Override
    public void writeResponseHeaders(ActiveStream s, HeaderMap headers, boolean endStream) {
        if (!writable(s)) {
            return;
        }
        int status = headers.status();
        if (status == 0) {
            status = 200;
        }
        if (h2Upgrade) {
            // Envoy's Utility::transformUpgradeResponseFromH1toH2.
            if (status == 101) {
                status = 200;
            }
            if ("0".equals(headers.get("content-length"))) {
                headers.remove("content-length");
            }
        }
        Http2Headers h = new DefaultHttp2Headers(false);
        h.status(Integer.toString(status));
        copyResponseHeaders(headers, h);
        ctx.write(new DefaultHttp2HeadersFrame(h, endStream), promise(endStream));
        if (endStream) {
            ctx.flush();
        } else {
            flushLater();
        }
    }

    /**
     * Writes {@code data} (ownership passes here: it is written, or released when the stream was reset or
     * closed, or when the request was HEAD — then only END_STREAM goes out, on an empty DATA frame).
     */
    @Override
    public void writeResponseData(ActiveStream s, ByteBuf data, boolean endStream) {
        if (!writable(s) || s.head) {
            if (data != null) {
                data.release();
            }
            if (!writable(s)) {
                return;
            }
            data = null;
        }
        if (data == null) {
            if (endStream) {
                ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), promise(true));
            }
            return;
        }
        if (!data.isReadable() && !endStream) {
            data.release();
            return;
        }
        ctx.write(new DefaultHttp2DataFrame(data, endStream), promise(endStream));
        if (endStream) {
            ctx.flush();
        } else {
            flushLater();
        }
    }

    /** Trailers: a HEADERS frame with END_STREAM (empty trailers: an empty DATA frame ends the stream). */
    @Override
    public void writeResponseTrailers(ActiveStream s, HeaderMap trailers) {
        if (!writable(s)) {
            return;
        }
        Http2Headers h = new DefaultHttp2Headers(false);
        copyResponseHeaders(trailers, h);
        if (h.isEmpty()) {
            ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), promise(true));
        } else {
            ctx.writeAndFlush(new DefaultHttp2HeadersFrame(h, true), promise(true));
        }
    }

    /**
     * The stream is over. If the request has not ended (the response came first, or a filter ended the stream),
     * the stream is reset with NO_ERROR as Envoy's {@code doEndStream} does; the connection goes on. When the
     * response ended but its last frames still wait (in the peer's flow-control window or an unflushed write),
     * the reset waits for them as Envoy's {@code StreamImpl::resetStream} defers it, bounded by
     * {@code stream_idle_timeout} (or {@code drain_timeout} when that is disabled): resetting at once would
     * drop the response's unsent DATA and trailers.
     */
    @Override
    public void onStreamDestroyed(ActiveStream s) {
        if (stream != s) {
            return;
        }
        if (!s.remoteComplete && !peerReset && ch.isActive()) {
            if (s.codecComplete) {
                stats.rqResponseBeforeRqComplete.inc();
            }
            if (s.codecComplete && endFuture != null && !endFuture.isDone()) {
                deferResetUntilResponseWritten();
            } else {
                sendReset(Http2Error.NO_ERROR);
            }
        }
        releaseReads();
    }

    private void deferResetUntilResponseWritten() {
        long bound = config.streamIdleTimeoutMillis() > 0 ? config.streamIdleTimeoutMillis()
                : config.drainTimeoutMillis();
        deferredResetTimer = dispatcher.schedule(this::deferredReset, Math.max(1, bound), TimeUnit.MILLISECONDS);
        endFuture.addListener(f -> deferredReset());
    }

    private void deferredReset() {
        if (deferredResetTimer != null) {
            deferredResetTimer.cancel();
            deferredResetTimer = null;
        }
        if (!peerReset) {
            sendReset(Http2Error.NO_ERROR);
        }
    }

    /** A promise for a frame's write: the void promise, or (for the frame that ends the response) a tracked one. */
    private ChannelPromise promise(boolean endStream) {
        if (!endStream) {
            return ctx.voidPromise();
        }
        ChannelPromise p = ctx.newPromise();
        endFuture = p;
        return p;
    }

    /** RST_STREAM (NO_ERROR, as Envoy's LocalReset) for this stream only; other streams go on. */
    @Override
    public void resetStream(ActiveStream s) {
        if (!peerReset) {
            sendReset(Http2Error.NO_ERROR);
        }
    }

    private boolean writable(ActiveStream s) {
        return s == stream && !resetSent && !peerReset && ch.isActive();
    }

    private void sendReset(Http2Error code) {
        if (resetSent || !ch.isActive()) {
            return;
        }
        resetSent = true;
        flushScheduled = false;
        // Netty closes the stream channel once the RST_STREAM is written (the stream is closed).
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(code), ctx.voidPromise());
    }

    private void releaseReads() {
        if (readDisables > 0) {
            readDisables = 0;
            ch.config().setAutoRead(true);
        }
    }

    /** Regular response headers, lower-case, without HTTP/1.1 connection-specific headers (RFC 9113 §8.2.2). */
    private static void copyResponseHeaders(HeaderMap from, Http2Headers to) {
        from.forEach((k, v) -> {
            if (k.isEmpty() || k.charAt(0) == ':' || HttpUpgrades.isConnectionSpecific(k, v)) {
                return;
            }
            to.add(AsciiString.of(k), v);
        });
    }

    private void flushLater() {
        if (!flushScheduled) {
            flushScheduled = true;
            dispatcher.execute(flushTask);
        }
    }

    private void runFlush() {
        if (flushScheduled) {
            flushScheduled = false;
            if (ch.isActive()) {
                ctx.flush();
            }
        }
    }

    // ---------------------------------------------------------------- ChannelHandler

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ch = ctx.channel();
        aboveHighWatermark = !ch.isWritable();
        parent.onStreamOpened();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame f) {
                if (!headersSeen) {
                    headersSeen = true;
                    onRequestHeaders(f.headers(), f.isEndStream());
                } else {
                    onRequestTrailers(f.headers(), f.isEndStream());
                }
            } else if (msg instanceof Http2DataFrame f) {
                ByteBuf data = f.content().retain();
                boolean end = f.isEndStream();
                if (stream == null || stream.destroyed || stream.remoteComplete) {
                    data.release();
                    return;
                }
                stream.decodeDataFromCodec(data, end);
            }
        } catch (RuntimeException e) {
            log.warn("connection {}: error on HTTP/2 stream; resetting it", conn.id(), e);
            if (stream != null) {
                stream.resetStream();
            } else {
                sendReset(Http2Error.INTERNAL_ERROR);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            peerReset = true;
            if (stream != null) {
                stream.onResetFromCodec();
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

    /** The stream channel closed: a stream still running lost its peer (connection closed or stream reset). */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        flushScheduled = false;
        if (deferredResetTimer != null) {
            deferredResetTimer.cancel();
            deferredResetTimer = null;
        }
        if (stream != null && !stream.destroyed && !resetSent) {
            if (!parent.isActive()) {
                parent.onStreamLostWithConnection();
            }
            stream.onConnectionClosed();
        }
        parent.onStreamClosed();
        ctx.fireChannelInactive();
    }

    /**
     * A stream error Netty's codec found (a {@code content-length} that the DATA frames contradict, invalid
     * headers...): it has already sent RST_STREAM. Counted as Envoy counts nghttp2's messaging errors
     * ({@code http2.rx_messaging_error}, response flag {@code DPE}), not as a downstream reset.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {}: HTTP/2 stream error: {}", conn.id(), cause.toString());
        resetSent = true; // by Netty
        flushScheduled = false;
        h2stats.rxMessagingError.inc();
        if (stream != null && !stream.destroyed) {
            stream.info.setResponseCodeDetails("http2.violation.of.messaging.rule");
            stream.decoderAborted = true;
            stream.info.setResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
            stream.destroy();
        }
    }

    // ---------------------------------------------------------------- requests

    private void onRequestHeaders(Http2Headers in, boolean endStream) {
        ActiveStream s = newStream();
        NettyHeaderMap headers = new NettyHeaderMap();
        s.requestHeaders = headers;
        int count = 0;
        String cookie = null;
        String host = null;
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            String value = e.getValue().toString();
            count++;
            if (COOKIE.contentEqualsIgnoreCase(name)) {
                // RFC 9113 §8.2.3: crumbled cookies are joined (Envoy's reconstituteCrumbledCookies).
                cookie = cookie == null ? value : cookie + "; " + value;
            } else if (HOST.contentEqualsIgnoreCase(name)) {
                host = value;
            } else {
                headers.add(name.toString(), value);
            }
        }
        if (cookie != null) {
            headers.add("cookie", cookie);
        }
        if (count > config.maxHeadersCount() || headers.byteSize() > config.maxRequestHeadersBytes()) {
            // Envoy's saveHeader: header_overflow and a stream reset (nghttp2 sends INTERNAL_ERROR).
            h2stats.headerOverflow.inc();
            s.info.setResponseCodeDetails("http2.too_many_headers");
            abort(s, Http2Error.INTERNAL_ERROR);
            return;
        }
        String method = headers.method();
        boolean connect = method != null && CONNECT.contentEquals(method);
        String protocol = headers.get(PROTOCOL);
        if (method == null || protocol != null && (!connect || !config.http2Options().allowConnect())
                // RFC 8441 §4: an extended CONNECT carries :path and :scheme like any other request.
                || (!connect || protocol != null)
                        && (headers.path() == null || headers.path().isEmpty() || headers.scheme() == null)
                || connect && protocol == null && (headers.path() != null || headers.scheme() != null)) {
            // A messaging-rule violation (RFC 9113 §8.3): nghttp2 resets the stream with PROTOCOL_ERROR.
            h2stats.rxMessagingError.inc();
            s.info.setResponseCodeDetails("http2.violation.of.messaging.rule");
            abort(s, Http2Error.PROTOCOL_ERROR);
            return;
        }
        if (headers.authority() == null && host != null) {
            headers.set(HeaderMap.AUTHORITY, host);
        }
        if (connect && protocol != null) {
            // Envoy's Utility::transformUpgradeRequestFromH2toH1.
            h2Upgrade = true;
            headers.set(HeaderMap.METHOD, "GET");
            headers.set("upgrade", protocol);
            headers.set("connection", "upgrade");
            headers.remove(PROTOCOL);
        }
        s.head = "HEAD".equals(method);
        s.grpc = LocalReplies.isGrpc(headers);
        String te = headers.get(TE);
        if (te != null && !TRAILERS.contentEqualsIgnoreCase(te.trim())) {
            headers.remove(TE);
        }
        String expect = headers.get("expect");
        if (expect != null && !config.proxy100Continue() && "100-continue".equalsIgnoreCase(expect.trim())) {
            // Envoy's ActiveStream::decodeHeaders: 100 Continue is answered here, the expect header removed.
            headers.remove("expect");
            write1xx(s, null);
        }
        if (headers.authority() == null || headers.authority().isEmpty()) {
            s.remoteComplete = endStream;
            s.sendLocalReply(400, "", null, "missing_host_header");
            return;
        }
        config.mutateRequestHeaders(headers, s.info);
        s.createFilterChain();
        s.decodeHeadersFromCodec(endStream);
    }

    private void onRequestTrailers(Http2Headers in, boolean endStream) {
        if (stream == null || stream.destroyed || stream.remoteComplete) {
            return;
        }
        if (!endStream) {
            // A second HEADERS without END_STREAM: the codec would have reset it already.
            abort(stream, Http2Error.PROTOCOL_ERROR);
            return;
        }
        h2stats.trailers.inc();
        NettyHeaderMap trailers = new NettyHeaderMap();
        int count = 0;
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            count++;
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                h2stats.rxMessagingError.inc();
                abort(stream, Http2Error.PROTOCOL_ERROR);
                return;
            }
            trailers.add(name.toString(), e.getValue().toString());
        }
        if (count > config.maxHeadersCount() || trailers.byteSize() > config.maxRequestHeadersBytes()) {
            h2stats.headerOverflow.inc();
            stream.info.setResponseCodeDetails("http2.too_many_headers");
            abort(stream, Http2Error.INTERNAL_ERROR);
            return;
        }
        stream.decodeTrailersFromCodec(trailers);
    }

    /** A codec-level stream error: RST_STREAM with {@code code}, the stream ends as reset. */
    private void abort(ActiveStream s, Http2Error code) {
        sendReset(code);
        s.decoderAborted = true;
        s.info.setResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
        s.destroy();
    }

    private ActiveStream newStream() {
        StreamInfoImpl info = new StreamInfoImpl(conn.remoteAddress(), conn.localAddress(), "HTTP/2");
        ActiveStream s = new ActiveStream(this, config, stats, info, dispatcher);
        stats.rqHttp2Total.inc();
        stream = s;
        return s;
    }
}
