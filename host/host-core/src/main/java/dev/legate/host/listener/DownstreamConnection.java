package dev.legate.host.listener;

import dev.legate.api.network.Connection;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.event.NettyDispatcher;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.channel.Channel;

/**
 * The host's view of an accepted connection: the SPI {@link Connection} plus what host services (the HTTP
 * codec) need. Confined to the channel's event loop.
 */
public interface DownstreamConnection extends Connection {

    Channel channel();

    @Override
    NettyDispatcher dispatcher();

    @Override
    StreamInfoImpl streamInfo();

    /** The clusters of the snapshot this connection was accepted under. */
    ClusterManager clusterManager();

    /** The listener's {@code per_connection_buffer_limit_bytes} (1 MiB default). */
    int bufferLimit();
}
