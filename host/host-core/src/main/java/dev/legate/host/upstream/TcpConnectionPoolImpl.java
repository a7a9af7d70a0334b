package dev.legate.host.upstream;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.TcpConnectionPool;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's raw TCP connections to one host (Envoy's {@code Tcp::ConnPoolImpl} as used by
 * {@code tcp_proxy}): every {@link #newConnection} opens a new connection for one user; none is reused.
 * Confined to {@link #loop}.
 *
 * <p>Limits: a connection attempt holds one {@code max_pending_requests} slot until it connects or fails
 * ({@code upstream_rq_pending_overflow} when none is free) and one {@code max_connections} slot for its life
 * ({@code upstream_cx_overflow} when none is free); both refusals report {@link ResetReason#OVERFLOW} inside
 * {@code newConnection}.
 */
final class TcpConnectionPoolImpl implements TcpConnectionPool {

    private static final Logger log = LoggerFactory.getLogger(TcpConnectionPoolImpl.class);
    private static final Cancellable NOOP = () -> { };

    private final ClusterImpl cluster;
    private final HostImpl host;
    private final EventLoop loop;
    private final ClusterStats stats;

    TcpConnectionPoolImpl(ClusterImpl cluster, HostImpl host, EventLoop loop) {
        this.cluster = cluster;
        this.host = host;
        this.loop = loop;
        this.stats = cluster.stats;
    }

    // TcpConnectionPool

    @Override
    public Cancellable newConnection(TcpUpstreamCallbacks callbacks) {
        requireNonNull(callbacks, "callbacks");
        assert loop.inEventLoop();
        if (cluster.isClosed()) {
            callbacks.onPoolFailure(ResetReason.LOCAL_CONNECTION_FAILURE, "cluster manager closed", host);
            return NOOP;
        }
        if (!cluster.resources.pendingRequests.tryAcquire()) {
            stats.rqPendingOverflow.inc();
            callbacks.onPoolFailure(ResetReason.OVERFLOW, "", host);
            return NOOP;
        }
        if (!cluster.resources.connections.tryAcquire()) {
            cluster.resources.pendingRequests.release();
            stats.cxOverflow.inc();
            callbacks.onPoolFailure(ResetReason.OVERFLOW, "", host);
            return NOOP;
        }
        stats.rqPendingTotal.inc();
        stats.rqPendingActive.inc();
        Conn c = new Conn(callbacks);
        c.connect();
        return c::cancel;
    }

    /**
     * One upstream TCP connection: bytes in go to {@link TcpUpstreamCallbacks#onUpstreamData} (ownership
     * transferred), the peer's FIN as {@code onUpstreamData(EMPTY_BUFFER, true)} (half-close allowed), and
     * the end as exactly one {@link TcpUpstreamCallbacks#onEvent}: {@code LOCAL_CLOSE} after {@link #close},
     * otherwise {@code REMOTE_CLOSE}, delivered after the close, on the loop.
     */
    private final class Conn extends ChannelInboundHandlerAdapter implements TcpUpstreamConnection {
        private final TcpUpstreamCallbacks callbacks;
        private Channel channel;
        private boolean connecting = true;
        private boolean cancelled;
        private boolean ready;
        private boolean closedLocally;
        private boolean destroyed;
        private boolean aboveHigh;
        private int readDisables;

        Conn(TcpUpstreamCallbacks callbacks) {
            this.callbacks = callbacks;
        }

        void connect() {
            UpstreamConnections.countOpened(stats, host);
            host.rqTotal.increment();
            host.rqActive.incrementAndGet();
            ChannelFuture f = UpstreamConnections.bootstrap(cluster, loop, new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new UpstreamConnections.ByteCounter(stats), Conn.this);
                }
            }).option(ChannelOption.ALLOW_HALF_CLOSURE, true).connect(host.address());
            channel = f.channel();
            cluster.channels.add(channel);
            f.addListener((ChannelFutureListener) this::onConnectComplete);
        }

        void cancel() {
            if (loop.inEventLoop()) {
                cancel0();
            } else {
                loop.execute(this::cancel0);
            }
        }

        private void cancel0() {
            if (connecting && !cancelled) {
                cancelled = true;
                closedLocally = true;
                channel.close();
            }
        }

        private void endPending() {
            connecting = false;
            cluster.resources.pendingRequests.release();
            stats.rqPendingActive.dec();
        }

        private void onConnectComplete(ChannelFuture f) {
            if (!connecting) {
                return;
            }
            endPending();
            if (cancelled) {
                stats.rqCancelled.inc();
                destroy(true);
                return;
            }
            if (f.isSuccess()) {
                ready = true;
                callbacks.onPoolReady(this, host);
                return;
            }
            Throwable cause = f.cause();
            boolean timeout = UpstreamConnections.countConnectFailure(stats, host, cause);
            log.debug("upstream connect to {} failed: {}", host, String.valueOf(cause));
            destroy(timeout);
            channel.close();
            callbacks.onPoolFailure(UpstreamConnections.reason(cause), UpstreamConnections.detail(cause), host);
        }

        private void destroy(boolean local) {
            if (destroyed) {
                return;
            }
            destroyed = true;
            host.requestDone(false);
            UpstreamConnections.countDestroyed(cluster, stats, host, local);
        }

        // TcpUpstreamConnection

        @Override
        public void write(ByteBuf data, boolean endStream) {
            if (!ready || closedLocally || !channel.isActive()) {
                data.release();
                return;
            }
            ChannelFuture f = channel.writeAndFlush(data);
            if (endStream) {
                f.addListener((ChannelFutureListener) w -> {
                    if (w.isSuccess() && channel instanceof DuplexChannel d && !d.isOutputShutdown()) {
                        d.shutdownOutput().addListener((ChannelFutureListener) s -> {
                            // Both directions are done (the peer's FIN came first): close, as Envoy does.
                            if (d.isInputShutdown() && d.isOpen() && !closedLocally) {
                                closedLocally = true;
                                d.close();
                            }
                        });
                    }
                });
            }
        }

        @Override
        public void close(CloseType type) {
            if (closedLocally || destroyed) {
                return;
            }
            closedLocally = true;
            if (type == CloseType.FLUSH_WRITE && channel.isActive()) {
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                channel.close();
            }
        }

        @Override
        public void readDisable(boolean disable) {
            readDisables = UpstreamConnections.readDisable(channel, readDisables, disable);
        }

        @Override
        public boolean isWritable() {
            return channel.isWritable();
        }

        // ChannelInboundHandler

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!ready || closedLocally || !(msg instanceof ByteBuf data)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            callbacks.onUpstreamData(data, false);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                if (ready && !closedLocally) {
                    callbacks.onUpstreamData(Unpooled.EMPTY_BUFFER, true);
                }
                // Both directions are done (our FIN went first): close; the peer finished last, so REMOTE_CLOSE.
                if (ctx.channel() instanceof DuplexChannel d && d.isOutputShutdown() && d.isOpen()) {
                    ctx.close();
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            boolean wasReady = ready;
            ready = false;
            destroy(closedLocally);
            if (wasReady) {
                callbacks.onEvent(closedLocally ? ConnectionEvent.LOCAL_CLOSE : ConnectionEvent.REMOTE_CLOSE);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            boolean writable = ctx.channel().isWritable();
            if (ready) {
                if (!writable && !aboveHigh) {
                    aboveHigh = true;
                    callbacks.onAboveWriteBufferHighWatermark();
                } else if (writable && aboveHigh) {
                    aboveHigh = false;
                    callbacks.onBelowWriteBufferLowWatermark();
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("upstream TCP connection to {}: {}", host, cause.toString());
            ctx.close();
        }
    }
}
