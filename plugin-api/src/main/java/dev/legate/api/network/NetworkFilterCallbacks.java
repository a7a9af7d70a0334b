package dev.legate.api.network;

import dev.legate.api.upstream.ClusterManager;

/**
 * What the host gives a network filter (Envoy's {@code ReadFilterCallbacks}). Valid for the connection's
 * life; call only on its event loop.
 */
public interface NetworkFilterCallbacks {

    Connection connection();

    /**
     * Resumes a chain this filter stopped: the next filter gets {@code onNewConnection} (if it was held)
     * and the data that arrived meanwhile.
     */
    void continueReading();

    /** The clusters of the current config snapshot, with this worker's connection pools. */
    ClusterManager clusterManager();
}
