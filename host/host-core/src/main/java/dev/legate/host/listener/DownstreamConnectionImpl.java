package dev.legate.host.listener;

import static java.util.Objects.requireNonNull;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.event.NettyDispatcher;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An accepted downstream connection (Envoy's {@code Network::ConnectionImpl} as filters see it): the SPI
 * {@link dev.legate.api.network.Connection} over a Netty channel, with its network filters run by the
 * {@link NetworkFilterHandler}. Confined to the channel's event loop: every method must be called there.
 *
 * <p>{@link #readDisable} is counted as in Envoy (n disables need n enables) and maps to Netty's
 * {@code autoRead}. The write buffer's watermarks are the channel's {@code WRITE_BUFFER_WATER_MARK}
 * ({@code per_connection_buffer_limit_bytes} and half of it); crossings reach {@link WatermarkCallbacks}.
 */
public final class DownstreamConnectionImpl implements DownstreamConnection {

    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    private final Channel channel;
    private final NettyDispatcher dispatcher;
    private final StreamInfoImpl streamInfo;
    private final ClusterManager clusterManager;
    private final int bufferLimit;
    private final List<WatermarkCallbacks> watermarkCallbacks = new ArrayList<>(2);
    private NetworkFilterHandler handler;
    private int readDisableCount;
    private boolean closeRequested;

    DownstreamConnectionImpl(Channel channel, ClusterManager clusterManager, int bufferLimit) {
        this.channel = requireNonNull(channel, "channel");
        this.dispatcher = new NettyDispatcher(channel.eventLoop());
        this.streamInfo = new StreamInfoImpl(inet(channel.remoteAddress()), inet(channel.localAddress()), null);
        this.clusterManager = clusterManager;
        this.bufferLimit = bufferLimit;
    }

    private static InetSocketAddress inet(java.net.SocketAddress a) {
        return a instanceof InetSocketAddress i ? i : null;
    }

    void handler(NetworkFilterHandler handler) {
        this.handler = handler;
    }

    boolean closeRequested() {
        return closeRequested;
    }

    // DownstreamConnection

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public NettyDispatcher dispatcher() {
        return dispatcher;
    }

    @Override
    public StreamInfoImpl streamInfo() {
        return streamInfo;
    }

    @Override
    public ClusterManager clusterManager() {
        return clusterManager;
    }

    @Override
    public int bufferLimit() {
        return bufferLimit;
    }

    // Connection

    @Override
    public long id() {
        return id;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return streamInfo.downstreamRemoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return streamInfo.downstreamLocalAddress();
    }

    @Override
    public void write(ByteBuf data, boolean endStream) {
        requireNonNull(data, "data");
        if (handler == null || !channel.isActive()) {
            data.release();
            return;
        }
        handler.writeFromFilters(data, endStream);
    }

    @Override
    public void close(CloseType type) {
        if (closeRequested) {
            return;
        }
        closeRequested = true;
        if (type == CloseType.FLUSH_WRITE && channel.isActive()) {
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .addListener(f -> channel.close());
        } else {
            channel.close();
        }
    }

    @Override
    public void readDisable(boolean disable) {
        if (disable) {
            if (readDisableCount++ == 0) {
                channel.config().setAutoRead(false);
            }
        } else if (readDisableCount > 0 && --readDisableCount == 0) {
            channel.config().setAutoRead(true);
        }
    }

    /** How many {@code readDisable(true)} calls wait for their {@code readDisable(false)}. */
    public int readDisableCount() {
        return readDisableCount;
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void addWatermarkCallbacks(WatermarkCallbacks callbacks) {
        watermarkCallbacks.add(requireNonNull(callbacks, "callbacks"));
    }

    /** Removes callbacks added with {@link #addWatermarkCallbacks}. */
    public void removeWatermarkCallbacks(WatermarkCallbacks callbacks) {
        watermarkCallbacks.remove(callbacks);
    }

    @Override
    public boolean isOpen() {
        return channel.isActive() && !closeRequested;
    }

    void fireWatermark(boolean writable) {
        // copy: a callback may remove itself
        for (WatermarkCallbacks cb : List.copyOf(watermarkCallbacks)) {
            if (writable) {
                cb.onBelowWriteBufferLowWatermark();
            } else {
                cb.onAboveWriteBufferHighWatermark();
            }
        }
    }

    @Override
    public String toString() {
        return "[C" + id + "] " + remoteAddress() + " -> " + localAddress();
    }
}
