package dev.legate.api.network;

import io.netty.buffer.ByteBuf;

/**
 * An L4 filter: a read filter and a write filter in one (Envoy's {@code Network::Filter}). One instance per
 * connection, made by a {@link NetworkFilterInstaller}; every method runs on the connection's event loop.
 *
 * <p>Read filters run in config order for bytes from the peer; write filters run in reverse order for bytes
 * to the peer. The last filter of a chain is terminal (e.g. {@code envoy.filters.network.tcp_proxy}): it
 * consumes what it reads.
 */
public interface NetworkFilter {

    // ReadFilter

    /** The connection was accepted and the chain built. Return {@code STOP_ITERATION} to hold later filters. */
    default FilterStatus onNewConnection() {
        return FilterStatus.CONTINUE;
    }

    /**
     * Bytes from the peer.
     *
     * @param data      borrowed for this call; retain to keep. With {@code CONTINUE} the next filter sees
     *                  the same buffer, so a filter that consumed bytes advances its reader index.
     * @param endStream the peer half-closed (FIN)
     */
    default FilterStatus onData(ByteBuf data, boolean endStream) {
        return FilterStatus.CONTINUE;
    }

    // WriteFilter

    /** Bytes to the peer, borrowed like {@link #onData}; called in reverse config order. */
    default FilterStatus onWrite(ByteBuf data, boolean endStream) {
        return FilterStatus.CONTINUE;
    }

    // ConnectionCallbacks

    /** The connection closed. After this the filter touches no callbacks. */
    default void onConnectionEvent(ConnectionEvent event) {
    }
}
