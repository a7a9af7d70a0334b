package dev.legate.api.upstream;

import dev.legate.api.Dispatcher;
import dev.legate.api.stats.Stats;

/**
 * A cluster of one config snapshot (Envoy's {@code ThreadLocalCluster} and {@code ClusterInfo}). Host
 * choice is thread-safe; pools are per event loop, so a filter asks with its own {@link Dispatcher}.
 */
public interface UpstreamCluster {

    String name();

    /** {@code cluster.<name>.} (or {@code alt_stat_name}): {@code upstream_rq_*}, {@code upstream_cx_*}. */
    Stats stats();

    /** The cluster's circuit breakers. */
    ResourceManager resourceManager();

    /** {@code connect_timeout} in ms (5 s default). */
    long connectTimeoutMillis();

    /** {@code per_connection_buffer_limit_bytes} (1 MiB default). */
    int perConnectionBufferLimitBytes();

    /** A host by the cluster's {@code lb_policy}, or {@code null} when none is healthy. */
    Host chooseHost(LoadBalancerContext context);

    /**
     * This event loop's HTTP pool for {@code host}: HTTP/1.1 (keep-alive reuse, one request per connection at a
     * time), or HTTP/2 when the cluster's protocol options ask for it (many streams per connection, more
     * connections only when every one is at {@code max_concurrent_streams}). Call on {@code dispatcher}'s loop.
     */
    HttpConnectionPool httpConnectionPool(Host host, Dispatcher dispatcher);

    /** This event loop's TCP pool for {@code host} (one connection per user). Call on its loop. */
    TcpConnectionPool tcpConnectionPool(Host host, Dispatcher dispatcher);
}
