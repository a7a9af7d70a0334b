package dev.legate.api.stats;

/**
 * A stats scope: every name is relative to the scope's prefix. Names are Envoy's, dotted:
 * {@code stats.scope("http.ingress.").counter("downstream_rq_total")} is
 * {@code http.ingress.downstream_rq_total} in {@code /stats} and
 * {@code envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress"}} in Prometheus.
 *
 * <p>Look meters up when a factory binds its config and keep them in a stats class (one per filter), never
 * per request. Lookups are thread-safe; meters live as long as the process.
 */
public interface Stats {
    /** The prefix of this scope, ending in a dot, or empty for the root. */
    String prefix();

    /** A child scope; {@code name} is appended to this prefix and a dot added when missing. */
    Stats scope(String name);

    Counter counter(String name);

    Gauge gauge(String name);

    /** A histogram of milliseconds (Envoy's time histograms) or another unit named by the stat. */
    Histogram histogram(String name);
}
