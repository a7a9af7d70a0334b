package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.http.Http2Options;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.host.listener.DownstreamConnection;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.logging.LogLevel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Ticker;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP/2 side of Envoy's {@code ConnectionManagerImpl} for one downstream connection (h2c): installs Netty's
 * {@link Http2FrameCodec} and {@link Http2MultiplexHandler} (one child {@link Http2StreamChannel} per stream,
 * each handled by an {@link Http2StreamCodec}) and sits after them, for the connection's lifecycle:
 * {@code downstream_cx_*} stats, the connection idle timeout, and GOAWAY on close.
 *
 * <p>SETTINGS come from {@code http2_protocol_options}: {@code max_concurrent_streams} (a stream beyond it is
 * refused by the codec with RST_STREAM REFUSED_STREAM), {@code initial_stream_window_size} (SETTINGS),
 * {@code initial_connection_window_size} (a WINDOW_UPDATE on stream 0 after the preface),
 * {@code hpack_table_size} and {@code allow_connect} ({@code SETTINGS_ENABLE_CONNECT_PROTOCOL}).
 *
 * <p>Any close of the channel (idle timeout, listener shutdown, {@code Connection.close}) goes through the
 * codec's graceful shutdown: GOAWAY NO_ERROR with the last stream id, active streams finish, bounded by the
 * HCM's {@code drain_timeout}. Connection-level protocol errors are answered by the codec with GOAWAY and a
 * close. Confined to the connection's event loop.
 *
 * <p>Difference from Envoy's drain ({@code ConnectionManagerImpl::startDrainSequence}, http2
 * {@code ConnectionImpl::shutdownNotice}/{@code goAway}): Envoy first sends a shutdown-notice GOAWAY with the
 * maximum stream id (streams the client opens meanwhile are still served), waits {@code drain_timeout}, then
 * sends the final GOAWAY with the last stream id and lets the active streams complete. Legate sends the final
 * GOAWAY at once (a stream the client opened in flight is refused, the client may retry it) and force-closes
 * streams still active {@code drain_timeout} later.
 */
final class Http2ServerConnection extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(Http2ServerConnection.class);

    /** The default window of a connection before any WINDOW_UPDATE (RFC 9113 §6.9.2). */
    private static final int DEFAULT_WINDOW = Http2CodecUtil.DEFAULT_WINDOW_SIZE;

    private final DownstreamConnection conn;
    private final HttpConnectionManagerConfig config;
    private final ConnectionManagerStats stats;
    private final Http2CodecStats h2stats;
    private final Dispatcher dispatcher;
    private final Ticker ticker;
    private ChannelHandlerContext ctx;
    private long startNanos;
    private long idleSinceNanos;
    private int activeStreams;
    private boolean closed;
    private boolean localClose;
    private boolean activeRqCounted;
    private Dispatcher.Timer idleTimer;

    private Http2ServerConnection(DownstreamConnection conn, HttpConnectionManagerConfig config,
                                  ConnectionManagerStats stats, Http2CodecStats h2stats) {
        this.conn = conn;
        this.config = config;
        this.stats = stats;
        this.h2stats = h2stats;
        this.dispatcher = conn.dispatcher();
        this.ticker = conn.dispatcher().eventLoop().ticker();
    }

    /**
     * Adds the HTTP/2 codec, the stream multiplexer and the connection handler at the end of
     * {@code conn}'s pipeline (on its event loop, the channel active).
     */
    static void install(DownstreamConnection conn, HttpConnectionManagerConfig config, ConnectionManagerStats stats,
                        Http2CodecStats h2stats, Http2FrameLogger frameLogger) {
        Http2ServerConnection handler = new Http2ServerConnection(conn, config, stats, h2stats);
        Http2Options o = config.http2Options();
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(o.maxConcurrentStreams())
                .initialWindowSize(o.initialStreamWindowSize())
                .headerTableSize(o.hpackTableSize())
                .maxHeaderListSize(headerListGuard(config));
        if (o.allowConnect()) {
            settings.connectProtocolEnabled(true);
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .gracefulShutdownTimeoutMillis(config.drainTimeoutMillis())
                .frameLogger(frameLogger)
                .validateHeaders(true)
                .build();
        int limit = Math.max(2, conn.bufferLimit());
        WriteBufferWaterMark streamMarks = new WriteBufferWaterMark(limit / 2, limit);
        ChannelPipeline p = conn.channel().pipeline();
        p.addLast("legate-http2-codec", codec);
        p.addLast("legate-http2-multiplex", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setWriteBufferWaterMark(streamMarks);
                ch.pipeline().addLast("legate-http2-stream", new Http2StreamCodec(handler));
            }
        }));
        p.addLast("legate-http2-connection-manager", handler);
    }

    /**
     * Netty's own header-list limit (counted as RFC 9113 does: name + value + 32 per field) is a guard well above
     * Envoy's {@code max_request_headers_kb}/{@code max_headers_count}, which {@link Http2StreamCodec} enforces
     * with a stream reset; only grossly oversized blocks hit Netty's limit.
     */
    private static long headerListGuard(HttpConnectionManagerConfig config) {
        return 2L * (config.maxRequestHeadersBytes() + 32L * (config.maxHeadersCount() + 8));
    }

    // ---------------------------------------------------------------- for the streams
    // Called by the connection's Http2StreamCodec instances, on the connection's event loop only (the stream
    // channels share it). The getters return shared, immutable (config) or thread-safe (stats) objects.

    /** The downstream connection this HTTP/2 session runs on. */
    DownstreamConnection connection() {
        return conn;
    }

    /** The HCM's config (immutable). */
    HttpConnectionManagerConfig config() {
        return config;
    }

    /** The HCM's {@code downstream_*} stats. */
    ConnectionManagerStats stats() {
        return stats;
    }

    /** The HCM's {@code http2.*} codec stats. */
    Http2CodecStats h2stats() {
        return h2stats;
    }

    /** The event loop's clock (ns; for durations only). */
    long nanoTime() {
        return ticker.nanoTime();
    }

    /** The connection is open and has not been counted as closed: a closing stream then lost only itself. */
    boolean isActive() {
        return !closed && ctx.channel().isActive();
    }

    /** A stream channel was created (its handler added): counts {@code http2.streams_active}. */
    void onStreamOpened() {
        activeStreams++;
        h2stats.streamsActive.inc();
    }

    /**
     * A stream channel closed (once per {@link #onStreamOpened}); the last one starts the connection's idle time.
     */
    void onStreamClosed() {
        activeStreams--;
        h2stats.streamsActive.dec();
        if (activeStreams == 0) {
            idleSinceNanos = nanoTime();
        }
    }

    /**
     * A stream was still active when the connection closed: {@code downstream_cx_destroy_active_rq} counts the
     * connection once, however many streams it had (Envoy's {@code ConnectionManagerImpl::onEvent}).
     */
    void onStreamLostWithConnection() {
        if (!activeRqCounted) {
            activeRqCounted = true;
            stats.cxDestroyActiveRq.inc();
        }
    }

    // ---------------------------------------------------------------- ChannelHandler

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        startNanos = nanoTime();
        idleSinceNanos = startNanos;
        stats.cxTotal.inc();
        stats.cxHttp2Total.inc();
        stats.cxActive.inc();
        stats.cxHttp2Active.inc();
        int connectionWindow = config.http2Options().initialConnectionWindowSize();
        if (connectionWindow > DEFAULT_WINDOW && ctx.channel().isActive()) {
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(connectionWindow - DEFAULT_WINDOW))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            log.debug("connection {}: connection window update failed: {}", conn.id(), f.cause());
                        }
                    });
        }
        long idle = config.connectionIdleTimeoutMillis();
        if (idle > 0) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, idle, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        onClosed();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        onClosed();
        ctx.fireChannelInactive();
    }

    /** Connection-level frames the multiplexer passes on (SETTINGS, PING, GOAWAY...): the codec handled them. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    /** The peer half-closed: HTTP/2 has no use for a half-open connection; close (with GOAWAY). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
            return;
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {}: {}", conn.id(), cause.toString());
        if (cause instanceof Http2Exception) {
            // The codec answers a connection error with GOAWAY and closes.
            stats.cxProtocolError.inc();
            localClose = true;
            return;
        }
        ctx.close(); // an I/O error: the peer's doing, not a local close
    }

    /** Every close from this side passes here on its way to the codec, which turns it into GOAWAY + drain. */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (!closed && ctx.channel().isActive()) {
            localClose = true;
        }
        ctx.close(promise);
    }

    private void onIdleTimer() {
        idleTimer = null;
        long timeout = config.connectionIdleTimeoutMillis();
        if (closed || timeout <= 0) {
            return;
        }
        long next = timeout;
        if (activeStreams == 0) {
            long idleFor = TimeUnit.NANOSECONDS.toMillis(nanoTime() - idleSinceNanos);
            if (idleFor >= timeout) {
                stats.cxIdleTimeout.inc();
                localClose = true;
                ctx.channel().close();
                return;
            }
            next = timeout - idleFor;
        }
        idleTimer = dispatcher.schedule(this::onIdleTimer, next, TimeUnit.MILLISECONDS);
    }

    private void onClosed() {
        if (closed) {
            return;
        }
        closed = true;
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
        stats.cxDestroy.inc();
        if (localClose) {
            stats.cxDestroyLocal.inc();
        } else {
            stats.cxDestroyRemote.inc();
        }
        stats.cxActive.dec();
        stats.cxHttp2Active.dec();
        stats.cxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(nanoTime() - startNanos));
    }

    /** Counts RST_STREAM frames both ways into {@code http2.rx_reset}/{@code http2.tx_reset}; logs at TRACE. */
    static final class CountingFrameLogger extends Http2FrameLogger {

        private final Http2CodecStats h2stats;

        CountingFrameLogger(Http2CodecStats h2stats) {
            super(LogLevel.TRACE, "dev.legate.host.http.Http2Frames");
            this.h2stats = h2stats;
        }

        @Override
        public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
            if (direction == Direction.INBOUND) {
                h2stats.rxReset.inc();
            } else {
                h2stats.txReset.inc();
            }
            super.logRstStream(direction, ctx, streamId, errorCode);
        }
    }
}
