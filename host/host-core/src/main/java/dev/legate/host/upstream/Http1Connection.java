package dev.legate.host.upstream;

import dev.legate.api.http.HeaderMap;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import dev.legate.host.http.NettyHeaderMap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.legate.host.http.LowerCaseHeadersFactory;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upstream HTTP/1.1 connection of an {@link HttpConnectionPoolImpl} (Envoy's {@code Http1::ActiveClient}
 * with its {@code CodecClient}): Netty's {@link HttpClientCodec} plus this handler, one {@link Stream} at a
 * time. Confined to the pool's loop.
 *
 * <p>Reuse (Envoy's {@code Http1::ClientConnectionImpl}): only after both the request and the response were
 * complete, the response was HTTP/1.1 without {@code connection: close}, the request did not ask for close,
 * the stream was not reset, and {@code max_requests_per_connection} (if set) is not reached.
 *
 * <p>Upgrades (Envoy's {@code Http1::ClientConnectionImpl} with an upgrade request): a request with
 * {@code connection: upgrade} and {@code upgrade} (not {@code h2c}) is written without framing and its body goes
 * out raw, also the bytes the downstream sends before the {@code 101} arrives (Envoy writes them raw too; a server
 * that answers without upgrading sees them as the start of its next request, which is why such a connection is
 * never reused). A {@code 101} answer is delivered as response headers, then the client codec leaves the pipeline (bytes it had
 * read past the 101 come back raw, in order) and every byte from the server is response data: the connection
 * is a byte tunnel. The end of the request half-closes the socket after its bytes are written; the server's
 * close ends the response. Such a connection is never reused; any other answer is an ordinary response. A
 * {@code 101} to a request that did not ask to upgrade resets the stream with {@code PROTOCOL_ERROR}, as Envoy.
 */
final class Http1Connection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(Http1Connection.class);

    /** Netty decoder limits: 60 KiB of response headers as Envoy's default, 64 KiB body chunks. */
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_SIZE = 60 * 1024;
    private static final int MAX_CHUNK = 64 * 1024;
    /** Header names lower-cased where they are parsed, as Envoy stores them (see LowerCaseHeadersFactory). */
    private static final HttpDecoderConfig DECODER_CONFIG = new HttpDecoderConfig()
            .setMaxInitialLineLength(MAX_INITIAL_LINE).setMaxHeaderSize(MAX_HEADER_SIZE).setMaxChunkSize(MAX_CHUNK)
            .setHeadersFactory(LowerCaseHeadersFactory.HEADERS).setTrailersFactory(LowerCaseHeadersFactory.TRAILERS);

    /** Methods whose requests get no {@code content-length: 0} when they have no body (RFC 9110 §8.6). */
    private static final java.util.Set<HttpMethod> BODILESS = java.util.Set.of(HttpMethod.GET, HttpMethod.HEAD,
            HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.CONNECT);

    enum State { CONNECTING, IDLE, BUSY, CLOSED }

    private final HttpConnectionPoolImpl pool;
    private final ClusterStats stats;
    private final HostImpl host;
    private Channel channel;
    private State state = State.CONNECTING;
    private Stream stream;
    private long requests;
    private boolean closedLocally;
    private boolean destroyed;
    private final IdleTimer idleTimer;

    Http1Connection(HttpConnectionPoolImpl pool) {
        this.pool = pool;
        this.stats = pool.stats;
        this.host = pool.host;
        this.idleTimer = new IdleTimer(pool.loop, pool.cluster.settings.idleTimeoutMillis, this::onIdleTimeout);
    }

    void connect() {
        UpstreamConnections.countOpened(stats, host);
        stats.cxHttp1Total.inc();
        ChannelFuture f = UpstreamConnections.bootstrap(pool.cluster, pool.loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new UpstreamConnections.ByteCounter(stats),
                        new HttpClientCodec(DECODER_CONFIG.clone(), false, false),
                        Http1Connection.this);
            }
        }).connect(host.address());
        channel = f.channel();
        pool.cluster.channels.add(channel);
        f.addListener((ChannelFutureListener) this::onConnectComplete);
    }

    private void onConnectComplete(ChannelFuture f) {
        if (f.isSuccess()) {
            if (state == State.CONNECTING) {
                state = State.IDLE;
                pool.onConnected(this);
            }
            return;
        }
        if (state != State.CONNECTING) {
            return;
        }
        state = State.CLOSED;
        Throwable cause = f.cause();
        boolean timeout = UpstreamConnections.countConnectFailure(stats, host, cause);
        log.debug("upstream connect to {} failed: {}", host, cause == null ? "cancelled" : cause.toString());
        destroy(timeout);
        channel.close();
        pool.onConnectFailed(this, UpstreamConnections.reason(cause), UpstreamConnections.detail(cause));
    }

    /** Counts the connection's end once (cx_active, destroy counters, the max_connections slot). */
    private void destroy(boolean local) {
        if (destroyed) {
            return;
        }
        destroyed = true;
        idleTimer.cancel();
        UpstreamConnections.countDestroyed(pool.cluster, stats, host, local);
    }

    /** Closes from this side; the pool has already accounted for the connection. */
    void close() {
        state = State.CLOSED;
        closedLocally = true;
        idleTimer.cancel();
        if (channel != null) {
            channel.close();
        }
    }

    boolean isActive() {
        return channel != null && channel.isActive();
    }

    void becomeIdle() {
        state = State.IDLE;
        idleTimer.start();
    }

    private void onIdleTimeout() {
        if (state == State.IDLE) {
            stats.cxIdleTimeout.inc();
            close();
            pool.onIdleClosed(this);
        }
    }

    Stream startStream(UpstreamResponseHandler handler) {
        idleTimer.cancel();
        state = State.BUSY;
        requests++;
        channel.config().setAutoRead(true);
        host.rqTotal.increment();
        host.rqActive.incrementAndGet();
        stream = new Stream(handler);
        return stream;
    }

    /** The stream's response reached its end (the decoder's LastHttpContent): recycle or close. */
    private void streamComplete(Stream s) {
        stream = null;
        long max = pool.cluster.settings.maxRequestsPerConnection;
        boolean maxed = max > 0 && requests >= max;
        if (maxed) {
            stats.cxMaxRequests.inc();
        }
        boolean reusable = s.keepAlive && s.requestComplete && !maxed && !pool.draining() && channel.isActive();
        if (reusable) {
            pool.onStreamDone(this, true);
        } else {
            state = State.CLOSED;
            pool.onStreamDone(this, false);
        }
    }

    // ChannelInboundHandler

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Stream s = stream;
        if (s == null) {
            // Bytes from the server with no request outstanding (or after a reset): drop, and close a live one.
            ReferenceCountUtil.release(msg);
            if (state == State.IDLE) {
                log.debug("unexpected data from {} on an idle connection; closing it", host);
                close();
                pool.onIdleClosed(this);
            }
            return;
        }
        s.onResponseObject(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State was = state;
        state = State.CLOSED;
        destroy(closedLocally);
        if (was == State.IDLE) {
            pool.onIdleClosed(this);
        } else if (was == State.BUSY) {
            Stream s = stream;
            stream = null;
            pool.onBusyClosed(this);
            if (s != null) {
                s.onConnectionClosed();
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Stream s = stream;
        if (s != null) {
            s.onWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("upstream connection to {}: {}", host, cause.toString());
        ctx.close();
    }

    /**
     * The request side and response dispatch of one stream (Envoy's {@code RequestEncoder} +
     * {@code ResponseDecoder} wiring). Methods on a stream that ended or was reset are no-ops that release
     * any buffer given.
     */
    final class Stream implements UpstreamHttpStream {
        private final UpstreamResponseHandler handler;
        boolean requestComplete;
        boolean keepAlive = true;
        private boolean headRequest;
        /** The request asked for an upgrade: no framing, raw body, never reused. */
        private boolean upgradeRequest;
        /** The server answered 101: the connection is a byte tunnel. */
        private boolean upgraded;
        private boolean informational;
        private boolean responseEnded;
        private boolean reset;
        private boolean aboveHigh;
        private int readDisables;
        private int status;

        Stream(UpstreamResponseHandler handler) {
            this.handler = handler;
        }

        private boolean active() {
            return stream == this && !reset;
        }

        // UpstreamHttpStream

        @Override
        public void encodeHeaders(HeaderMap headers, boolean endStream) {
            if (!active() || requestComplete) {
                return;
            }
            // The downstream's own header object is written as is (no copy per request); Host and the framing
            // header this request needs are added for the encode, which runs now on this loop, and taken off
            // again so the request map that filters and access logs see stays as it was.
            boolean wrapped = headers instanceof NettyHeaderMap;
            HttpRequest req = wrapped ? NettyHeaderMap.wrapAsNettyRequest((NettyHeaderMap) headers)
                    : NettyHeaderMap.toNettyRequest(headers);
            headRequest = HttpMethod.HEAD.equals(req.method());
            if (!HttpUtil.isKeepAlive(req)) {
                keepAlive = false;
            }
            HttpHeaders h = req.headers();
            // Envoy's Utility::isUpgrade, without h2c (never forwarded): the predicate the HTTP/2 codec uses too.
            upgradeRequest = Http2HeaderConversion.upgradeProtocol(headers) != null;
            if (upgradeRequest) {
                keepAlive = false;
            }
            CharSequence added = null;
            if (!endStream && !upgradeRequest && !HttpUtil.isContentLengthSet(req)
                    && !HttpUtil.isTransferEncodingChunked(req)) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                added = HttpHeaderNames.TRANSFER_ENCODING;
            }
            if (endStream && !HttpUtil.isContentLengthSet(req) && !HttpUtil.isTransferEncodingChunked(req)
                    && !BODILESS.contains(req.method())) {
                // Envoy's HTTP/1 codec: a headers-only request of a method that may carry a body says so.
                h.set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO);
                added = HttpHeaderNames.CONTENT_LENGTH;
            }
            if (endStream) {
                requestComplete = true;
                channel.write(req);
                channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            } else {
                channel.writeAndFlush(req);
            }
            if (wrapped) {
                h.remove(HttpHeaderNames.HOST);
                if (added != null) {
                    h.remove(added);
                }
            }
        }

        @Override
        public void encodeData(ByteBuf data, boolean endStream) {
            if (!active() || requestComplete) {
                data.release();
                return;
            }
            if (upgradeRequest) {
                encodeUpgradeData(data, endStream);
                return;
            }
            if (endStream) {
                requestComplete = true;
                channel.writeAndFlush(new DefaultLastHttpContent(data));
            } else if (!data.isReadable()) {
                data.release();
            } else {
                channel.writeAndFlush(new DefaultHttpContent(data));
            }
        }

        /**
         * Upgrade payload: raw bytes (through the encoder, which passes unframed content, until the 101 removes
         * it). The end half-closes the socket once everything before it is written.
         */
        private void encodeUpgradeData(ByteBuf data, boolean endStream) {
            if (!data.isReadable()) {
                data.release();
                if (!endStream) {
                    return;
                }
                data = Unpooled.EMPTY_BUFFER;
            }
            Object msg = upgraded || !data.isReadable() ? data : new DefaultHttpContent(data);
            if (!endStream) {
                channel.writeAndFlush(msg, channel.voidPromise());
                return;
            }
            requestComplete = true;
            channel.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.channel() instanceof DuplexChannel d && d.isActive() && !d.isOutputShutdown()) {
                    d.shutdownOutput();
                }
            });
        }

        @Override
        public void encodeTrailers(HeaderMap trailers) {
            if (!active() || requestComplete) {
                return;
            }
            if (upgradeRequest) {
                encodeUpgradeData(Unpooled.EMPTY_BUFFER, true); // HTTP/1.1 payload has no trailers
                return;
            }
            requestComplete = true;
            channel.writeAndFlush(new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER,
                    NettyHeaderMap.toNettyHeaders(trailers)));
        }

        @Override
        public void reset() {
            if (!active() || responseEnded) {
                return;
            }
            reset = true;
            responseEnded = true;
            stream = null;
            host.requestDone(true);
            state = State.CLOSED;
            pool.onStreamDone(Http1Connection.this, false);
        }

        @Override
        public void readDisable(boolean disable) {
            if (!active()) {
                return;
            }
            readDisables = UpstreamConnections.readDisable(channel, readDisables, disable);
        }

        @Override
        public boolean isWritable() {
            return channel.isWritable();
        }

        // Response side, from the connection's handler.

        void onResponseObject(Object msg) {
            if (upgraded) {
                onTunnelObject(msg);
                return;
            }
            if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                protocolError(o.decoderResult().cause());
                return;
            }
            if (msg instanceof HttpResponse r) {
                onResponseHeaders(r);
            }
            if (msg instanceof HttpContent c) {
                onResponseContent(c);
            } else if (!(msg instanceof HttpResponse)) {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onResponseHeaders(HttpResponse r) {
            int code = r.status().code();
            if (code == 101) {
                if (upgradeRequest) {
                    onSwitchingProtocols(r);
                } else {
                    // Envoy's ClientConnectionImpl: a 101 to a request that asked for no upgrade is a protocol error.
                    protocolError(new IllegalStateException("101 to a request without upgrade"));
                }
                return;
            }
            if (code >= 100 && code < 200) {
                // 1xx informational responses are not delivered (SPI); the codec follows with an empty last content.
                informational = true;
                return;
            }
            status = code;
            if (r.protocolVersion() != HttpVersion.HTTP_1_1 || !HttpUtil.isKeepAlive(r)) {
                keepAlive = false;
            }
            boolean end = headRequest || code == 204 || code == 304
                    || (HttpUtil.getContentLength(r, -1L) == 0 && !HttpUtil.isTransferEncodingChunked(r));
            if (end) {
                endResponse();
            }
            handler.onHeaders(NettyHeaderMap.ofResponse(r), end);
        }

        private void onResponseContent(HttpContent c) {
            boolean last = c instanceof LastHttpContent;
            if (informational || responseEnded || reset) {
                c.release();
                if (last) {
                    if (informational) {
                        informational = false;
                    } else if (!reset) {
                        streamComplete(this);
                    }
                }
                return;
            }
            ByteBuf content = c.content();
            if (!last) {
                if (content.isReadable()) {
                    handler.onData(content, false);
                } else {
                    content.release();
                }
                return;
            }
            HttpHeaders trailers = ((LastHttpContent) c).trailingHeaders();
            endResponse();
            if (trailers.isEmpty()) {
                handler.onData(content, true);
            } else {
                if (content.isReadable()) {
                    handler.onData(content, false);
                } else {
                    content.release();
                }
                handler.onTrailers(NettyHeaderMap.ofTrailers(trailers));
            }
            if (!reset) {
                streamComplete(this);
            }
        }

        /**
         * The upgrade was accepted: the 101 goes to the handler, then the client codec leaves the pipeline. Bytes
         * it had read past the 101 come back through {@link #channelRead} as raw buffers during the removal,
         * after the headers, followed by the codec's empty end of the 101 (dropped).
         */
        private void onSwitchingProtocols(HttpResponse r) {
            status = 101;
            upgraded = true;
            handler.onHeaders(NettyHeaderMap.ofResponse(r), false);
            if (stream == this && !reset) {
                HttpClientCodec codec = channel.pipeline().get(HttpClientCodec.class);
                if (codec != null) {
                    channel.pipeline().remove(codec);
                }
            }
        }

        /** After a 101: raw server bytes are response data; the codec's leftovers are dropped. */
        private void onTunnelObject(Object msg) {
            if (msg instanceof ByteBuf b && b.isReadable() && !responseEnded && !reset) {
                handler.onData(b, false);
                return;
            }
            ReferenceCountUtil.release(msg);
        }

        /** The handler gets (or just got) the end of the response: count it. */
        private void endResponse() {
            responseEnded = true;
            host.requestDone(status >= 500);
        }

        private void protocolError(Throwable cause) {
            stats.cxProtocolError.inc();
            log.debug("upstream protocol error from {}: {}", host, String.valueOf(cause));
            if (responseEnded) {
                stream = null;
                state = State.CLOSED;
                pool.onStreamDone(Http1Connection.this, false);
                return;
            }
            responseEnded = true;
            reset = true;
            stream = null;
            host.requestDone(true);
            state = State.CLOSED;
            pool.onStreamDone(Http1Connection.this, false);
            handler.onReset(ResetReason.PROTOCOL_ERROR, "");
        }

        void onConnectionClosed() {
            if (responseEnded || reset) {
                return;
            }
            if (upgraded) {
                // The server closed the tunnel: that ends the response (Envoy's HTTP/1 end-by-disconnect).
                endResponse();
                handler.onData(Unpooled.EMPTY_BUFFER, true);
                return;
            }
            responseEnded = true;
            reset = true;
            stats.cxDestroyWithActiveRq.inc();
            host.requestDone(true);
            handler.onReset(ResetReason.CONNECTION_TERMINATION, "");
        }

        void onWritabilityChanged(boolean writable) {
            if (!active() || responseEnded) {
                return;
            }
            if (!writable && !aboveHigh) {
                aboveHigh = true;
                handler.onAboveWriteBufferHighWatermark();
            } else if (writable && aboveHigh) {
                aboveHigh = false;
                handler.onBelowWriteBufferLowWatermark();
            }
        }
    }
}
