package dev.legate.host.upstream;

import dev.legate.api.upstream.ResetReason;
import dev.legate.host.event.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.net.ConnectException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * What the HTTP and TCP pools share: the client {@link Bootstrap}, byte counting, connect-failure mapping,
 * nested read-disable.
 */
final class UpstreamConnections {

    private UpstreamConnections() {
    }

    /**
     * A bootstrap on {@code loop} with the cluster's {@code connect_timeout}, {@code TCP_NODELAY} and
     * write-buffer watermarks of {@code per_connection_buffer_limit_bytes} (high) and half of it (low), as
     * Envoy's connection buffer limits.
     */
    static Bootstrap bootstrap(ClusterImpl cluster, EventLoop loop, ChannelHandler handler) {
        int limit = cluster.settings.bufferLimit;
        return new Bootstrap()
                .group(loop)
                .channel(Transports.socketChannelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, cluster.settings.connectTimeoutMillis))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(Math.max(1, limit / 2), limit))
                .handler(handler);
    }

    /** Counts a connection attempt: {@code upstream_cx_total}, {@code upstream_cx_active} and the host's. */
    static void countOpened(ClusterStats stats, HostImpl host) {
        stats.cxTotal.inc();
        stats.cxActive.inc();
        host.cxTotal.increment();
        host.cxActive.incrementAndGet();
    }

    /**
     * Counts a failed connect: {@code upstream_cx_connect_fail} (and the host's), plus
     * {@code upstream_cx_connect_timeout} when it timed out.
     *
     * @return whether the connect timed out (Envoy then counts the connection's end as local)
     */
    static boolean countConnectFailure(ClusterStats stats, HostImpl host, Throwable cause) {
        boolean timeout = cause instanceof ConnectTimeoutException;
        stats.cxConnectFail.inc();
        host.cxConnectFail.increment();
        if (timeout) {
            stats.cxConnectTimeout.inc();
        }
        return timeout;
    }

    /**
     * Counts a connection's end, once per connection: {@code upstream_cx_active} (and the host's) down,
     * {@code upstream_cx_destroy} and its local/remote variant up, and the {@code max_connections} slot freed.
     */
    static void countDestroyed(ClusterImpl cluster, ClusterStats stats, HostImpl host, boolean local) {
        stats.cxActive.dec();
        host.cxActive.decrementAndGet();
        stats.cxDestroy.inc();
        if (local) {
            stats.cxDestroyLocal.inc();
        } else {
            stats.cxDestroyRemote.inc();
        }
        cluster.resources.connections.release();
    }

    /** Envoy's reset reason for a failed connect. */
    static ResetReason reason(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return ResetReason.CONNECTION_TIMEOUT;
        }
        if (cause instanceof ConnectException || (cause instanceof IOException && !(cause instanceof ClosedChannelException))) {
            return ResetReason.REMOTE_CONNECTION_FAILURE;
        }
        return ResetReason.LOCAL_CONNECTION_FAILURE;
    }

    /**
     * The transport failure detail Envoy puts in logs and the 503 body, e.g.
     * {@code delayed connect error: Connection refused}; empty for a timeout.
     */
    static String detail(Throwable cause) {
        if (cause == null || cause instanceof ConnectTimeoutException) {
            return "";
        }
        String m = cause.getMessage();
        if (m == null || m.isEmpty()) {
            return cause.getClass().getSimpleName();
        }
        int addr = m.lastIndexOf(": /");
        if (addr > 0) {
            m = m.substring(0, addr); // Netty appends ": /ip:port" to connect errors
        }
        int i = m.lastIndexOf(": ");
        return "delayed connect error: " + (i >= 0 ? m.substring(i + 2) : m);
    }

    /**
     * Envoy's nested {@code readDisable}: each {@code disable} call adds one, each enable removes one (never
     * below zero), and auto-read goes off at the first disable and back on when the count returns to zero.
     * Returns the new count, for the caller's field.
     */
    static int readDisable(Channel channel, int disables, boolean disable) {
        if (disable) {
            if (disables == 0) {
                channel.config().setAutoRead(false);
            }
            return disables + 1;
        }
        if (disables == 0) {
            return 0;
        }
        if (disables == 1) {
            channel.config().setAutoRead(true);
        }
        return disables - 1;
    }

    /** Counts bytes in and out of one upstream channel into {@code upstream_cx_rx|tx_bytes_total}; first in the pipeline. */
    static final class ByteCounter extends ChannelDuplexHandler {
        private final ClusterStats stats;

        ByteCounter(ClusterStats stats) {
            this.stats = stats;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            stats.cxRxBytesTotal.add(size(msg));
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            stats.cxTxBytesTotal.add(size(msg));
            ctx.write(msg, promise);
        }

        private static long size(Object msg) {
            if (msg instanceof ByteBuf b) {
                return b.readableBytes();
            }
            if (msg instanceof ByteBufHolder h) {
                return h.content().readableBytes();
            }
            return 0;
        }
    }
}
