package dev.legate.api.upstream;

import dev.legate.api.network.ConnectionEvent;
import io.netty.buffer.ByteBuf;

/** Events of one upstream TCP connection, on its event loop. */
public interface TcpUpstreamCallbacks {

    void onPoolReady(TcpUpstreamConnection connection, Host host);

    void onPoolFailure(ResetReason reason, String transportFailure, Host host);

    /** Bytes from upstream; {@code data} is transferred to the callee. {@code endStream}: upstream FIN. */
    void onUpstreamData(ByteBuf data, boolean endStream);

    /** The upstream connection closed. */
    void onEvent(ConnectionEvent event);

    default void onAboveWriteBufferHighWatermark() {
    }

    default void onBelowWriteBufferLowWatermark() {
    }
}
