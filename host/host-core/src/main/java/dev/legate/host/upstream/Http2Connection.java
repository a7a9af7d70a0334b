package dev.legate.host.upstream;

import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.Http2Options;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One upstream HTTP/2 connection (cleartext, prior knowledge) of an {@link Http2ConnectionPoolImpl} (Envoy's
 * {@code Http2::ActiveClient} with its {@code CodecClient}): Netty's {@link Http2FrameCodec} and
 * {@link Http2MultiplexHandler}, one child {@link Http2StreamChannel} per {@link Stream}, and this handler for
 * the connection's own frames (SETTINGS, GOAWAY). Confined to the pool's loop.
 *
 * <p>Capacity (Envoy's {@code Http2::ActiveClient::calculateInitialStreamsLimit} and {@code onSettings}):
 * {@code max_concurrent_streams} of the cluster, lowered to the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS}
 * when it arrives, and at most {@code max_requests_per_connection} streams over the connection's life. Until the
 * peer's first SETTINGS frame arrives a new connection takes at most {@value #INITIAL_PEER_MAX_STREAMS} streams,
 * as nghttp2 (Envoy's codec) assumes before the peer's SETTINGS ({@code nghttp2_option_set_peer_max_concurrent_streams}:
 * "initially limited to 100"); a SETTINGS frame without the field lifts it. The pool never opens more streams
 * than the peer allows, so requests beyond it wait in the pool's pending queue, where {@code cancel()} works;
 * Netty's stream-buffering encoder only holds a stream in the window where the peer lowered its limit after the
 * stream was opened, and {@link Stream#reset()} drops such a stream there so its HEADERS never go out.
 *
 * <p>A connection that received GOAWAY, reached {@code max_requests_per_connection}, or whose pool drains takes
 * no new stream and closes once its streams are done; streams above the GOAWAY's last-stream-id, and streams
 * the peer resets with {@code REFUSED_STREAM}, end with {@link #REFUSED} (safe to retry). A connection with no
 * stream closes after {@code idle_timeout} (GOAWAY, then close).
 */
final class Http2Connection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(Http2Connection.class);

    /** Envoy's default {@code max_response_headers_kb}: 60 KiB of response headers (SETTINGS_MAX_HEADER_LIST_SIZE). */
    private static final int MAX_HEADER_LIST_SIZE = 60 * 1024;

    /** Streams a connection takes before the peer's first SETTINGS (nghttp2's initial peer limit). */
    static final long INITIAL_PEER_MAX_STREAMS = 100;

    /**
     * The reset reason of a stream the peer refused ({@code RST_STREAM REFUSED_STREAM}, or above a GOAWAY's
     * last-stream-id): Envoy's {@code RemoteRefusedStreamReset} ("remote refused stream reset", response flag UR),
     * which the router retries under {@code retry_on: refused-stream}, {@code reset}, {@code 5xx} and
     * {@code gateway-error}. Counted in {@code http2.stream_refused_errors}.
     */
    static final ResetReason REFUSED = ResetReason.REMOTE_REFUSED_STREAM_RESET;

    enum State { CONNECTING, READY, CLOSED }

    private final Http2ConnectionPoolImpl pool;
    private final ClusterStats stats;
    private final HostImpl host;
    private final Http2Options options;
    private Channel channel;
    State state = State.CONNECTING;
    /** Streams open on this connection (counted from {@link #startStream} to the stream's close). */
    int active;
    /** Streams ever started, for {@code max_requests_per_connection}. */
    private long started;
    /**
     * The peer's SETTINGS_MAX_CONCURRENT_STREAMS: {@link #INITIAL_PEER_MAX_STREAMS} until its first SETTINGS,
     * {@link Long#MAX_VALUE} when that SETTINGS has none.
     */
    private long peerMaxStreams = INITIAL_PEER_MAX_STREAMS;
    private boolean peerSettingsReceived;
    private Http2FrameCodec codec;
    /** GOAWAY received, max requests reached, or the pool drains: no new stream. */
    boolean draining;
    private boolean goAwayReceived;
    private boolean closedLocally;
    private boolean destroyed;
    private final IdleTimer idleTimer;

    Http2Connection(Http2ConnectionPoolImpl pool) {
        this.pool = pool;
        this.stats = pool.stats;
        this.host = pool.host;
        this.options = pool.cluster.settings.http2;
        this.idleTimer = new IdleTimer(pool.loop, pool.cluster.settings.idleTimeoutMillis, this::onIdleTimeout);
    }

    /** Streams this connection may still take now: 0 when draining or at its limit. */
    long capacity() {
        if (draining || state != State.READY || !channel.isActive()) {
            return 0;
        }
        long limit = Math.min(options.maxConcurrentStreams(), peerMaxStreams);
        long max = pool.cluster.settings.maxRequestsPerConnection;
        long left = limit - active;
        if (max > 0) {
            left = Math.min(left, max - started);
        }
        return Math.max(0, left);
    }

    /** Streams this connection will take once connected (Envoy's connecting stream capacity). */
    long initialCapacity() {
        long max = pool.cluster.settings.maxRequestsPerConnection;
        long limit = Math.min(options.maxConcurrentStreams(), INITIAL_PEER_MAX_STREAMS);
        return max > 0 ? Math.min(max, limit) : limit;
    }

    void connect() {
        UpstreamConnections.countOpened(stats, host);
        stats.cxHttp2Total.inc();
        Http2Settings settings = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .initialWindowSize(options.initialStreamWindowSize())
                .headerTableSize(options.hpackTableSize())
                .maxHeaderListSize(MAX_HEADER_LIST_SIZE);
        ChannelFuture f = UpstreamConnections.bootstrap(pool.cluster, pool.loop, new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                codec = Http2FrameCodecBuilder.forClient()
                        .initialSettings(settings)
                        .encoderEnforceMaxConcurrentStreams(true)
                        .gracefulShutdownTimeoutMillis(0)
                        .build();
                ch.pipeline().addLast(new UpstreamConnections.ByteCounter(stats), codec,
                        new Http2MultiplexHandler(RefusePushedStreams.INSTANCE), Http2Connection.this);
            }
        }).connect(host.address());
        channel = f.channel();
        pool.cluster.channels.add(channel);
        f.addListener((ChannelFutureListener) this::onConnectComplete);
    }

    private void onConnectComplete(ChannelFuture f) {
        if (f.isSuccess()) {
            if (state == State.CONNECTING) {
                state = State.READY;
                int extra = options.initialConnectionWindowSize() - Http2CodecUtil.DEFAULT_WINDOW_SIZE;
                if (extra > 0) {
                    // A WINDOW_UPDATE on stream 0 raises the connection window (initial_connection_window_size).
                    channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(extra));
                }
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
        log.debug("upstream HTTP/2 connect to {} failed: {}", host, cause == null ? "cancelled" : cause.toString());
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

    /** Closes from this side (GOAWAY, then close); open streams end with a reset. */
    void close() {
        closedLocally = true;
        idleTimer.cancel();
        if (channel != null) {
            channel.close();
        }
    }

    /** Takes no new stream; closes now when idle, else when the last stream ends. */
    void drain() {
        draining = true;
        if (active == 0) {
            close();
        }
    }

    /** Starts the idle timer when the connection carries no stream (right after it connected). */
    void startIdleTimerIfIdle() {
        if (active == 0 && state == State.READY && channel.isActive()) {
            idleTimer.start();
        }
    }

    private void onIdleTimeout() {
        if (active == 0 && state == State.READY) {
            stats.cxIdleTimeout.inc();
            close();
        }
    }

    /**
     * Opens a stream for {@code handler} and reports to {@code ready} once the child channel is open or failed
     * (on the loop, possibly before this method returns). The caller checked {@link #capacity()}.
     */
    void startStream(UpstreamResponseHandler handler, StreamReady ready) {
        idleTimer.cancel();
        active++;
        started++;
        long max = pool.cluster.settings.maxRequestsPerConnection;
        if (max > 0 && started >= max && !draining) {
            stats.cxMaxRequests.inc();
            draining = true;
        }
        host.rqTotal.increment();
        host.rqActive.incrementAndGet();
        stats.http2.streamsActive.inc();
        Stream s = new Stream(handler);
        int limit = pool.cluster.settings.bufferLimit;
        Future<Http2StreamChannel> f = new Http2StreamChannelBootstrap(channel)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(Math.max(1, limit / 2), limit))
                .handler(s)
                .open();
        f.addListener(done -> {
            if (done.isSuccess()) {
                s.child = f.getNow();
                ready.onReady(s);
            } else {
                s.onOpenFailed();
                ready.onFailed(ResetReason.CONNECTION_TERMINATION, "");
            }
        });
    }

    /**
     * Where {@link #startStream} reports: exactly one of {@link #onReady} and {@link #onFailed}, on the pool's
     * loop, possibly inside {@code startStream} itself (Netty opens a child channel synchronously on its loop),
     * so the implementation must not assume the caller's state is settled. {@code onFailed} comes after the
     * stream's slot was given back.
     */
    interface StreamReady {
        void onReady(Stream stream);

        void onFailed(ResetReason reason, String detail);
    }

    /** A stream's child channel closed: one slot back. */
    private void streamClosed() {
        active--;
        stats.http2.streamsActive.dec();
        if (active == 0 && (draining || pool.draining())) {
            close();
            return;
        }
        if (active == 0 && state == State.READY && channel.isActive()) {
            idleTimer.start();
        }
        pool.onStreamDone(this);
    }

    // ChannelInboundHandler (the parent channel, after the multiplexer: connection-level frames)

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame sf) {
                Long max = sf.settings().maxConcurrentStreams();
                if (max != null) {
                    peerMaxStreams = max;
                } else if (!peerSettingsReceived) {
                    peerMaxStreams = Long.MAX_VALUE; // no limit announced: unlimited (RFC 9113 §6.5.2)
                }
                peerSettingsReceived = true;
                pool.onCapacityChanged(this);
            } else if (msg instanceof Http2GoAwayFrame g) {
                onGoAway(g);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onGoAway(Http2GoAwayFrame g) {
        log.debug("GOAWAY from {}: last stream {}, error {}", host, g.lastStreamId(), g.errorCode());
        if (!goAwayReceived) {
            goAwayReceived = true;
            stats.cxCloseNotify.inc();
        }
        draining = true;
        pool.onCapacityChanged(this);
        if (active == 0) {
            close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State was = state;
        state = State.CLOSED;
        if (active > 0) {
            stats.cxDestroyWithActiveRq.inc();
        }
        destroy(closedLocally);
        if (was != State.CONNECTING) {
            pool.onClosed(this);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2Exception) {
            stats.cxProtocolError.inc();
        }
        log.debug("upstream HTTP/2 connection to {}: {}", host, cause.toString());
        ctx.close();
    }

    /** Server-initiated streams (push is disabled in our SETTINGS): closed at once. */
    @ChannelHandler.Sharable
    private static final class RefusePushedStreams extends ChannelInboundHandlerAdapter {
        static final RefusePushedStreams INSTANCE = new RefusePushedStreams();

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().close();
        }
    }

    /**
     * One request/response exchange on its own child channel (Envoy's {@code RequestEncoder} +
     * {@code ResponseDecoder} on an HTTP/2 stream). Methods on a stream that ended or was reset are no-ops that
     * release any buffer given. The child channel's auto-read is its flow control: while it is off, received
     * DATA frames wait in the child channel and are not consumed, so the stream's window is not returned and
     * the peer stops sending. A DATA frame's bytes go back to the stream and connection windows when the frame
     * is read into the child pipeline (Netty's multiplexer consumes them then), not when the handler releases
     * the buffer it got in {@code onData}: a handler that keeps buffers must {@link #readDisable} to bound them.
     */
    final class Stream extends ChannelInboundHandlerAdapter implements UpstreamHttpStream {
        private final UpstreamResponseHandler handler;
        Http2StreamChannel child;
        private String upgradeProtocol;
        private boolean headersSent;
        private boolean requestComplete;
        private boolean responseHeaders;
        private boolean responseEnded;
        /** Ended from our side (reset) or by an event already reported: no more callbacks. */
        private boolean finished;
        private boolean counted;
        private boolean closed;
        private boolean aboveHigh;
        private int readDisables;
        private int status;
        /** Why the stream ended, when the peer or the codec said so before the child channel closed. */
        private ResetReason pendingReason;

        Stream(UpstreamResponseHandler handler) {
            this.handler = handler;
        }

        private boolean usable() {
            return child != null && !finished && !requestComplete;
        }

        // UpstreamHttpStream

        @Override
        public void encodeHeaders(HeaderMap headers, boolean endStream) {
            if (!usable() || headersSent) {
                return;
            }
            headersSent = true;
            Http2HeaderConversion.Request req = Http2HeaderConversion.toHttp2Request(headers);
            upgradeProtocol = req.upgradeProtocol();
            if (endStream) {
                requestComplete = true;
            }
            child.writeAndFlush(new DefaultHttp2HeadersFrame(req.headers(), endStream));
        }

        @Override
        public void encodeData(ByteBuf data, boolean endStream) {
            if (!usable() || !headersSent) {
                data.release();
                return;
            }
            if (endStream) {
                requestComplete = true;
            } else if (!data.isReadable()) {
                data.release();
                return;
            }
            child.writeAndFlush(new DefaultHttp2DataFrame(data, endStream));
        }

        @Override
        public void encodeTrailers(HeaderMap trailers) {
            if (!usable() || !headersSent) {
                return;
            }
            requestComplete = true;
            Http2Headers h = Http2HeaderConversion.toHttp2Trailers(trailers);
            if (h.isEmpty()) {
                // Envoy's ConnectionImpl::StreamImpl::encodeTrailers: empty trailers end the stream with empty DATA.
                child.writeAndFlush(new DefaultHttp2DataFrame(true));
            } else {
                child.writeAndFlush(new DefaultHttp2HeadersFrame(h, true));
            }
        }

        /**
         * Ends the stream from our side and closes the child channel; the connection stays up for its other
         * streams. No further callbacks. Exactly one {@code RST_STREAM CANCEL} goes out when the stream is open
         * on the wire (counted in {@code http2.tx_reset}): the child channel's close sends it, except after the
         * response's END_STREAM, where Netty's close sends none and this method does. A stream whose HEADERS were
         * never written sends nothing; one held by Netty's stream-buffering encoder is dropped there, so its
         * HEADERS never go out.
         */
        @Override
        public void reset() {
            if (child == null || finished) {
                return;
            }
            finished = true;
            countEnd(true);
            if (!child.isActive()) {
                return;
            }
            int id = child.stream().id();
            if (Http2CodecUtil.isStreamIdValid(id) && channel.isActive()) {
                if (!codec.connection().streamMayHaveExisted(id)) {
                    // Held by the stream-buffering encoder: a RST_STREAM frame would be dropped ("Stream never
                    // existed") and the HEADERS sent later; the encoder's own writeRstStream drops the stream.
                    codec.encoder().writeRstStream(channel.pipeline().context(codec), id, Http2Error.CANCEL.code(),
                            channel.newPromise());
                } else if (codec.connection().stream(id) != null) {
                    stats.http2.txReset.inc();
                    if (responseEnded) {
                        child.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
                    }
                }
            }
            child.close();
        }

        @Override
        public void readDisable(boolean disable) {
            if (child == null || finished) {
                return;
            }
            readDisables = UpstreamConnections.readDisable(child, readDisables, disable);
        }

        @Override
        public boolean isWritable() {
            return child != null && child.isWritable();
        }

        // ChannelInboundHandler (the child channel)

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (finished) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (msg instanceof Http2HeadersFrame hf) {
                onHeadersFrame(hf);
            } else if (msg instanceof Http2DataFrame df) {
                onDataFrame(df);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onHeadersFrame(Http2HeadersFrame hf) {
            boolean end = hf.isEndStream();
            if (!responseHeaders && !end) {
                CharSequence raw = hf.headers().status();
                if (raw != null && raw.length() == 3 && raw.charAt(0) == '1') {
                    return; // 1xx informational responses are not delivered (SPI)
                }
            }
            HeaderMap map;
            try {
                map = Http2HeaderConversion.toHeaderMap(hf.headers(), responseHeaders ? null : upgradeProtocol);
            } catch (RuntimeException e) {
                protocolError(e);
                return;
            }
            if (!responseHeaders) {
                responseHeaders = true;
                status = map.status();
                if (end) {
                    endResponse();
                }
                handler.onHeaders(map, end);
                return;
            }
            // A second HEADERS frame: the trailers (RFC 9113 §8.1); they end the stream.
            stats.http2.trailers.inc();
            endResponse();
            handler.onTrailers(map);
        }

        private void onDataFrame(Http2DataFrame df) {
            ByteBuf content = df.content();
            boolean end = df.isEndStream();
            if (!responseHeaders) {
                content.release();
                protocolError(new IllegalStateException("DATA before response headers"));
                return;
            }
            if (!end && !content.isReadable()) {
                content.release();
                return;
            }
            if (end) {
                endResponse();
            }
            handler.onData(content, end);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                stats.http2.rxReset.inc();
                if (r.errorCode() == Http2Error.REFUSED_STREAM.code()) {
                    stats.http2.streamRefusedErrors.inc();
                    pendingReason = REFUSED;
                } else {
                    pendingReason = ResetReason.REMOTE_RESET;
                }
            } else if (evt instanceof Http2GoAwayFrame g) {
                // This stream is above the GOAWAY's last-stream-id: the peer never processed it.
                g.release();
                stats.http2.streamRefusedErrors.inc();
                pendingReason = REFUSED;
                ctx.close();
                return;
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("upstream HTTP/2 stream to {}: {}", host, cause.toString());
            if (pendingReason == null) {
                pendingReason = ResetReason.PROTOCOL_ERROR;
            }
            ctx.close();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            boolean writable = ctx.channel().isWritable();
            if (!finished && !responseEnded) {
                if (!writable && !aboveHigh) {
                    aboveHigh = true;
                    handler.onAboveWriteBufferHighWatermark();
                } else if (writable && aboveHigh) {
                    aboveHigh = false;
                    handler.onBelowWriteBufferLowWatermark();
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (closed) {
                return;
            }
            closed = true;
            if (!finished && !responseEnded) {
                finished = true;
                if (child != null) {
                    countEnd(true);
                    ResetReason reason = pendingReason;
                    if (reason == null && heldAndRefused()) {
                        stats.http2.streamRefusedErrors.inc();
                        reason = REFUSED;
                    }
                    handler.onReset(reason != null ? reason : ResetReason.CONNECTION_TERMINATION, "");
                } else {
                    countNeverOpened(); // the open failed: onOpenFailed reports it
                }
            } else if (!finished && !requestComplete) {
                // The response ended first and the peer closed the stream: the request side is moot.
                finished = true;
            }
            streamClosed();
        }

        /**
         * The child channel could not be opened (the connection closed meanwhile). Its slot comes back once:
         * when the failed open already ran {@link #channelInactive} this does nothing more. The request never
         * went out, so it is no {@code rq_error} of the host.
         */
        /**
         * The stream was held by Netty's stream-buffering encoder (its id is assigned, but the connection never
         * created it: its HEADERS never went out) and the peer sent GOAWAY, which fails held streams before the
         * GOAWAY frame reaches {@link Http2Connection#channelRead}: the peer never saw the request, safe to retry.
         */
        private boolean heldAndRefused() {
            int id = child.stream().id();
            return Http2CodecUtil.isStreamIdValid(id) && codec.connection().goAwayReceived()
                    && !codec.connection().streamMayHaveExisted(id);
        }

        void onOpenFailed() {
            finished = true;
            countNeverOpened();
            if (closed) {
                return;
            }
            closed = true;
            streamClosed();
        }

        private void countNeverOpened() {
            if (!counted) {
                counted = true;
                host.rqActive.decrementAndGet();
            }
        }

        private void endResponse() {
            responseEnded = true;
            countEnd(status >= 500);
        }

        private void countEnd(boolean error) {
            if (!counted) {
                counted = true;
                host.requestDone(error);
            }
        }

        private void protocolError(Throwable cause) {
            log.debug("upstream HTTP/2 protocol error from {}: {}", host, String.valueOf(cause));
            pendingReason = ResetReason.PROTOCOL_ERROR;
            boolean wasEnded = responseEnded;
            finished = true;
            countEnd(true);
            if (child.isActive()) {
                if (Http2CodecUtil.isStreamIdValid(child.stream().id())) {
                    stats.http2.txReset.inc();
                    child.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
                }
                child.close();
            }
            if (!wasEnded) {
                handler.onReset(ResetReason.PROTOCOL_ERROR, "");
            }
        }
    }
}
