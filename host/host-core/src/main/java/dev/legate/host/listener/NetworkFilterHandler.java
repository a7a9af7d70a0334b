package dev.legate.host.listener;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.NetworkFilterInstaller;
import dev.legate.api.upstream.ClusterManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one connection's network filters (Envoy's {@code Network::FilterManagerImpl}) on its event loop:
 * <ul>
 *   <li>{@code onNewConnection} in config order when the channel becomes active; a filter that returns
 *       {@code STOP_ITERATION} holds the later ones until it calls {@code continueReading()} or data arrives
 *       and it lets the data pass;</li>
 *   <li>{@code onData} in config order for each read {@link ByteBuf}, and with {@code endStream} (and an
 *       empty buffer) when the peer half-closes ({@link ChannelInputShutdownEvent});</li>
 *   <li>{@code onWrite} in reverse order for {@code Connection.write} and for bytes that handlers after this
 *       one (the HTTP codec) write;</li>
 *   <li>{@code onConnectionEvent} when the channel closes; watermark callbacks when writability changes.</li>
 * </ul>
 * When the chain's terminal filter is a {@link ConnectionPipelineInstaller} (the HTTP connection manager), its
 * handlers sit after this one and a read buffer that every filter let through is passed on to them
 * ({@code fireChannelRead}); otherwise the host releases it after the chain (filters borrow it). A filter
 * consumes bytes by advancing the reader index; bytes a non-last filter stops on without consuming them are kept
 * by the host (as in Envoy's connection read buffer) and handed to the next filter when that filter calls
 * {@code continueReading()}. A filter that throws closes the connection: traffic never throws out of the host.
 */
final class NetworkFilterHandler extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(NetworkFilterHandler.class);

    private final DownstreamConnectionImpl connection;
    private final List<NetworkFilterInstaller> installers;
    private final boolean pipeline;
    private final ListenerStats stats;
    private final long startNanos = System.nanoTime();
    private NetworkFilter[] filters = new NetworkFilter[0];
    private boolean[] initialized = new boolean[0];
    private ChannelHandlerContext ctx;
    private boolean endStreamPending;
    private boolean closed;
    /** Bytes a non-last filter stopped on without consuming them; passed on by its continueReading(). */
    private ByteBuf held;
    private int heldAt = -1;

    /**
     * @param installers the chain's filters, in config order, without a terminal pipeline installer
     * @param pipeline   whether a {@link ConnectionPipelineInstaller}'s handlers follow this one
     */
    NetworkFilterHandler(DownstreamConnectionImpl connection, List<NetworkFilterInstaller> installers,
                         boolean pipeline, ListenerStats stats) {
        this.connection = connection;
        this.installers = installers;
        this.pipeline = pipeline;
        this.stats = stats;
        connection.handler(this);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        stats.connectionOpened();
        int n = installers.size();
        if (n == 0 && !pipeline) {
            // Envoy: an empty filter chain closes the connection
            connection.close(CloseType.NO_FLUSH);
            ctx.fireChannelActive();
            return;
        }
        filters = new NetworkFilter[n];
        initialized = new boolean[n];
        try {
            for (int i = 0; i < n; i++) {
                filters[i] = installers.get(i).newFilter(new Callbacks(i));
            }
        } catch (RuntimeException e) {
            failed("creating a network filter", e);
            ctx.fireChannelActive();
            return;
        }
        ctx.fireChannelActive();
        continueFrom(-1, Unpooled.EMPTY_BUFFER, false);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        connection.streamInfo().addBytesReceived(buf.readableBytes());
        if (filters.length == 0) {
            if (pipeline && !closed) {
                ctx.fireChannelRead(buf);
            } else {
                buf.release();
            }
            return;
        }
        boolean passedOn = false;
        try {
            if (continueFrom(-1, buf, false) && pipeline && buf.isReadable() && !closed) {
                passedOn = true;
                ctx.fireChannelRead(buf);
            }
        } finally {
            if (!passedOn) {
                buf.release();
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            endStreamPending = true;
            boolean all = filters.length == 0 || continueFrom(-1, Unpooled.EMPTY_BUFFER, true);
            if (pipeline) {
                if (all) {
                    ctx.fireUserEventTriggered(evt);
                }
            } else if (ctx.channel() instanceof DuplexChannel d && d.isOutputShutdown()) {
                ctx.close(); // both directions are done
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Envoy's {@code onContinueReading}: from the filter after {@code after}, initialize each filter not yet
     * initialized and give it the data; stop at the first {@code STOP_ITERATION}.
     *
     * @return whether every filter let the event through
     */
    private boolean continueFrom(int after, ByteBuf data, boolean endStream) {
        for (int i = after + 1; i < filters.length; i++) {
            if (closed || connection.closeRequested()) {
                return false;
            }
            NetworkFilter f = filters[i];
            try {
                if (!initialized[i]) {
                    initialized[i] = true;
                    if (f.onNewConnection() == FilterStatus.STOP_ITERATION) {
                        return false;
                    }
                }
                if (data.isReadable() || endStream) {
                    if (f.onData(data, endStream) == FilterStatus.STOP_ITERATION) {
                        hold(i, data);
                        return false;
                    }
                }
            } catch (RuntimeException e) {
                failed("in network filter " + f.getClass().getName(), e);
                return false;
            }
        }
        if (endStream) {
            endStreamPending = false;
        }
        return !closed;
    }

    /**
     * Envoy keeps what a stopping filter did not drain in the connection's read buffer for the filters after it;
     * so does this (a copy: a rare path), unless the filter is the last one.
     */
    private void hold(int index, ByteBuf data) {
        if (index == filters.length - 1 || !data.isReadable() || closed) {
            return;
        }
        if (held == null) {
            held = ctx.alloc().buffer(data.readableBytes());
        }
        held.writeBytes(data, data.readerIndex(), data.readableBytes());
        heldAt = index;
    }

    private void releaseHeld() {
        if (held != null) {
            held.release();
            held = null;
            heldAt = -1;
        }
    }

    /** {@code Connection.write}: the write filters in reverse order, then the socket. {@code data} is ours. */
    void writeFromFilters(ByteBuf data, boolean endStream) {
        if (!runWriteFilters(data, endStream)) {
            data.release();
            return;
        }
        connection.streamInfo().addBytesSent(data.readableBytes());
        if (!endStream) {
            ctx.writeAndFlush(data, ctx.voidPromise());
            return;
        }
        ctx.writeAndFlush(data).addListener(f -> {
            Channel ch = ctx.channel();
            if (!f.isSuccess() || !(ch instanceof DuplexChannel d)) {
                ch.close();
                return;
            }
            d.shutdownOutput().addListener(s -> {
                if (!s.isSuccess() || d.isInputShutdown()) {
                    ch.close(); // both directions are done
                }
            });
        });
    }

    private boolean runWriteFilters(ByteBuf data, boolean endStream) {
        for (int i = filters.length - 1; i >= 0; i--) {
            NetworkFilter f = filters[i];
            try {
                if (f.onWrite(data, endStream) == FilterStatus.STOP_ITERATION) {
                    return false;
                }
            } catch (RuntimeException e) {
                failed("in network filter " + f.getClass().getName(), e);
                return false;
            }
        }
        return true;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            if (filters.length > 0 && !runWriteFilters(buf, false)) {
                buf.release();
                promise.trySuccess();
                return;
            }
            connection.streamInfo().addBytesSent(buf.readableBytes());
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        try {
            connection.fireWatermark(ctx.channel().isWritable());
        } catch (RuntimeException e) {
            failed("in a watermark callback", e);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        ConnectionEvent event = connection.closeRequested() ? ConnectionEvent.LOCAL_CLOSE : ConnectionEvent.REMOTE_CLOSE;
        for (NetworkFilter f : filters) {
            if (f == null) {
                continue;
            }
            try {
                f.onConnectionEvent(event);
            } catch (RuntimeException e) {
                log.warn("{} network filter {} threw on close", connection, f.getClass().getName(), e);
            }
        }
        releaseHeld();
        stats.connectionClosed((System.nanoTime() - startNanos) / 1_000_000);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("{} socket error: {}", connection, cause.toString());
        } else {
            log.warn("{} closed after an error", connection, cause);
        }
        ctx.close();
    }

    private void failed(String where, RuntimeException e) {
        log.warn("{} closed: exception {}", connection, where, e);
        connection.close(CloseType.NO_FLUSH);
    }

    /** One filter's view of the chain (Envoy's {@code ReadFilterCallbacks}). */
    private final class Callbacks implements NetworkFilterCallbacks {
        private final int index;

        Callbacks(int index) {
            this.index = index;
        }

        @Override
        public DownstreamConnection connection() {
            return connection;
        }

        @Override
        public void continueReading() {
            if (closed || !ctx.executor().inEventLoop()) {
                if (!closed) {
                    ctx.executor().execute(this::continueReading);
                }
                return;
            }
            boolean endStream = endStreamPending;
            ByteBuf data = Unpooled.EMPTY_BUFFER;
            if (held != null && heldAt == index) {
                data = held;
                held = null;
                heldAt = -1;
            }
            boolean passedOn = false;
            try {
                boolean all = continueFrom(index, data, endStream);
                if (all && pipeline && data.isReadable() && !closed) {
                    passedOn = true;
                    ctx.fireChannelRead(data);
                }
                if (all && endStream && pipeline && !closed) {
                    ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                }
            } finally {
                if (!passedOn) {
                    data.release();
                }
            }
        }

        @Override
        public ClusterManager clusterManager() {
            return connection.clusterManager();
        }
    }
}
