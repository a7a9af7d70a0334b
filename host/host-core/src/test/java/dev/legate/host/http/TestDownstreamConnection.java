package dev.legate.host.http;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.event.NettyDispatcher;
import dev.legate.host.listener.DownstreamConnection;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import java.net.InetSocketAddress;

/** A {@link DownstreamConnection} over a test's channel (embedded or real), with Envoy's counted readDisable. */
final class TestDownstreamConnection implements DownstreamConnection {

    static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 40000);
    static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 10000);

    final Channel channel;
    final NettyDispatcher dispatcher;
    final StreamInfoImpl info = new StreamInfoImpl(REMOTE, LOCAL, null);
    final int bufferLimit;
    int readDisabled;
    int maxReadDisabled;

    TestDownstreamConnection(Channel channel, int bufferLimit) {
        this.channel = channel;
        this.dispatcher = new NettyDispatcher(channel.eventLoop());
        this.bufferLimit = bufferLimit;
    }

    @Override public Channel channel() { return channel; }
    @Override public NettyDispatcher dispatcher() { return dispatcher; }
    @Override public StreamInfoImpl streamInfo() { return info; }
    @Override public ClusterManager clusterManager() { return null; }
    @Override public int bufferLimit() { return bufferLimit; }
    @Override public long id() { return 7; }
    @Override public InetSocketAddress remoteAddress() { return REMOTE; }
    @Override public InetSocketAddress localAddress() { return LOCAL; }

    @Override
    public void write(ByteBuf data, boolean endStream) {
        channel.writeAndFlush(data);
    }

    @Override
    public void close(CloseType type) {
        if (type == CloseType.FLUSH_WRITE) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    @Override
    public void readDisable(boolean disable) {
        if (disable) {
            readDisabled++;
            maxReadDisabled = Math.max(maxReadDisabled, readDisabled);
        } else if (readDisabled > 0) {
            readDisabled--;
        }
        channel.config().setAutoRead(readDisabled == 0);
    }

    @Override public boolean isWritable() { return channel.isWritable(); }
    @Override public void addWatermarkCallbacks(WatermarkCallbacks callbacks) { }
    @Override public boolean isOpen() { return channel.isOpen(); }
}
