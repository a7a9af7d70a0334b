package dev.legate.api.upstream;

import java.util.Set;

/**
 * The clusters of one config snapshot (Envoy's {@code ClusterManager} as seen from a worker). Lookups are
 * lock-free and may be made from any thread; pools come per event loop from {@link UpstreamCluster}.
 */
public interface ClusterManager {

    /** The cluster named {@code name}, or {@code null}. */
    UpstreamCluster cluster(String name);

    /** Names of all clusters. */
    Set<String> clusterNames();
}
