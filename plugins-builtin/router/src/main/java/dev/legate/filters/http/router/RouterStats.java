package dev.legate.filters.http.router;

import static java.util.Objects.requireNonNull;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.UpstreamCluster;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The router's stats (Envoy's {@code ALL_ROUTER_STATS} and the cluster names the router charges).
 *
 * <p>The HCM-rooted counters ({@code http.<stat_prefix>.no_route}, ...) are looked up once when the factory
 * binds its config. Cluster stats live in each cluster's own scope ({@code cluster.<name>.}), which the router
 * reaches through {@link dev.legate.api.upstream.UpstreamCluster#stats()}; their names are constants here (the
 * per-status-code names precomputed) and its meters are looked up once per cluster object and kept in a
 * {@link ClusterMeters} (lock-free reads), so the data path neither builds a stat name nor searches the store.
 */
final class RouterStats {

    // Cluster-scoped names (cluster.<name>.<stat>), Envoy's spelling.
    static final String UPSTREAM_RQ_TOTAL = "upstream_rq_total";
    static final String UPSTREAM_RQ_ACTIVE = "upstream_rq_active";
    static final String UPSTREAM_RQ_COMPLETED = "upstream_rq_completed";
    static final String UPSTREAM_RQ_TIME = "upstream_rq_time";
    static final String UPSTREAM_RQ_TIMEOUT = "upstream_rq_timeout";
    static final String UPSTREAM_RQ_PER_TRY_TIMEOUT = "upstream_rq_per_try_timeout";
    static final String UPSTREAM_RQ_PENDING_OVERFLOW = "upstream_rq_pending_overflow";
    static final String UPSTREAM_RQ_RETRY = "upstream_rq_retry";
    static final String UPSTREAM_RQ_RETRY_SUCCESS = "upstream_rq_retry_success";
    static final String UPSTREAM_RQ_RETRY_OVERFLOW = "upstream_rq_retry_overflow";
    static final String UPSTREAM_RQ_RETRY_LIMIT_EXCEEDED = "upstream_rq_retry_limit_exceeded";
    static final String UPSTREAM_RQ_RETRY_BACKOFF_EXPONENTIAL = "upstream_rq_retry_backoff_exponential";
    static final String UPSTREAM_CX_NONE_HEALTHY = "upstream_cx_none_healthy";
    static final String RETRY_OR_SHADOW_ABANDONED = "retry_or_shadow_abandoned";

    private static final String[] RQ_CODE = new String[600];
    private static final String[] RQ_CLASS = new String[6];
    private static final String[] RETRY_RQ_CODE = new String[600];
    private static final String[] RETRY_RQ_CLASS = new String[6];

    static {
        for (int code = 100; code < 600; code++) {
            RQ_CODE[code] = "upstream_rq_" + code;
            RETRY_RQ_CODE[code] = "retry.upstream_rq_" + code;
        }
        for (int c = 1; c < 6; c++) {
            RQ_CLASS[c] = "upstream_rq_" + c + "xx";
            RETRY_RQ_CLASS[c] = "retry.upstream_rq_" + c + "xx";
        }
    }

    /** {@code http.<sp>.rq_total}: requests the router handled. */
    final Counter rqTotal;
    /** {@code http.<sp>.no_route}: no virtual host or route matched (404). */
    final Counter noRoute;
    /** {@code http.<sp>.no_cluster}: the route's cluster does not exist. */
    final Counter noCluster;
    /** {@code http.<sp>.rq_direct_response}: answered by a {@code direct_response} route. */
    final Counter rqDirectResponse;
    /** {@code http.<sp>.rq_redirect}: answered by a {@code redirect} route. */
    final Counter rqRedirect;
    /** {@code http.<sp>.rq_reset_after_downstream_response_started}. */
    final Counter rqResetAfterDownstreamResponseStarted;
    /**
     * {@code http.<sp>.downstream_rq_max_duration_reached}: a route's {@code max_stream_duration} passed (an HCM
     * stat in Envoy; the router runs that timer in Legate).
     */
    final Counter rqMaxDurationReached;

    /**
     * @param httpScope the HCM's {@code http.<stat_prefix>.} scope, as {@code FactoryContext.stats()} gives it to
     *                  the filters of an {@code http_filters} list
     */
    RouterStats(Stats httpScope) {
        requireNonNull(httpScope, "httpScope");
        rqTotal = httpScope.counter("rq_total");
        noRoute = httpScope.counter("no_route");
        noCluster = httpScope.counter("no_cluster");
        rqDirectResponse = httpScope.counter("rq_direct_response");
        rqRedirect = httpScope.counter("rq_redirect");
        rqResetAfterDownstreamResponseStarted = httpScope.counter("rq_reset_after_downstream_response_started");
        rqMaxDurationReached = httpScope.counter("downstream_rq_max_duration_reached");
    }

    /** Per cluster name; an entry is replaced when a new config snapshot brings a new cluster object. */
    private final ConcurrentHashMap<String, ClusterMeters> clusters = new ConcurrentHashMap<>();

    /** The router's meters in {@code cluster}'s scope; thread-safe, lock-free once looked up. */
    ClusterMeters cluster(UpstreamCluster cluster) {
        ClusterMeters meters = clusters.get(cluster.name());
        if (meters == null || meters.cluster != cluster) {
            meters = new ClusterMeters(cluster);
            clusters.put(cluster.name(), meters);
        }
        return meters;
    }

    /**
     * The meters the router charges in one cluster's scope ({@code cluster.<name>.}). Shared by every event loop:
     * the fixed meters are final fields, the per-status-code ones fill in lazily (same meter instance for the same
     * name, so a race only repeats a lookup).
     */
    static final class ClusterMeters {
        final UpstreamCluster cluster;
        final Stats scope;
        final Counter rqTotal;
        final Gauge rqActive;
        final Counter rqCompleted;
        final Histogram rqTime;
        final Counter rqTimeout;
        final Counter rqPerTryTimeout;
        final Counter rqPendingOverflow;
        final Counter rqRetry;
        final Counter rqRetrySuccess;
        final Counter rqRetryOverflow;
        final Counter rqRetryLimitExceeded;
        final Counter rqRetryBackoffExponential;
        final Counter cxNoneHealthy;
        final Counter retryOrShadowAbandoned;
        private final AtomicReferenceArray<Counter> codes = new AtomicReferenceArray<>(1200);
        private final AtomicReferenceArray<Counter> classes = new AtomicReferenceArray<>(12);

        ClusterMeters(UpstreamCluster cluster) {
            this.cluster = cluster;
            this.scope = cluster.stats();
            rqTotal = scope.counter(UPSTREAM_RQ_TOTAL);
            rqActive = scope.gauge(UPSTREAM_RQ_ACTIVE);
            rqCompleted = scope.counter(UPSTREAM_RQ_COMPLETED);
            rqTime = scope.histogram(UPSTREAM_RQ_TIME);
            rqTimeout = scope.counter(UPSTREAM_RQ_TIMEOUT);
            rqPerTryTimeout = scope.counter(UPSTREAM_RQ_PER_TRY_TIMEOUT);
            rqPendingOverflow = scope.counter(UPSTREAM_RQ_PENDING_OVERFLOW);
            rqRetry = scope.counter(UPSTREAM_RQ_RETRY);
            rqRetrySuccess = scope.counter(UPSTREAM_RQ_RETRY_SUCCESS);
            rqRetryOverflow = scope.counter(UPSTREAM_RQ_RETRY_OVERFLOW);
            rqRetryLimitExceeded = scope.counter(UPSTREAM_RQ_RETRY_LIMIT_EXCEEDED);
            rqRetryBackoffExponential = scope.counter(UPSTREAM_RQ_RETRY_BACKOFF_EXPONENTIAL);
            cxNoneHealthy = scope.counter(UPSTREAM_CX_NONE_HEALTHY);
            retryOrShadowAbandoned = scope.counter(RETRY_OR_SHADOW_ABANDONED);
        }

        /**
         * Charges {@code upstream_rq_<code>} and {@code upstream_rq_<N>xx}, or for a response that was retried
         * their {@code retry.} twins (Envoy's {@code chargeBasicResponseStat}). Codes outside 100..599 are not
         * charged.
         */
        void chargeResponseCode(int code, boolean retried) {
            if (code < 100 || code >= 600) {
                return;
            }
            int codeSlot = retried ? code + 600 : code;
            Counter c = codes.get(codeSlot);
            if (c == null) {
                c = scope.counter(retried ? RETRY_RQ_CODE[code] : RQ_CODE[code]);
                codes.set(codeSlot, c);
            }
            c.inc();
            int classSlot = retried ? code / 100 + 6 : code / 100;
            Counter k = classes.get(classSlot);
            if (k == null) {
                k = scope.counter(retried ? RETRY_RQ_CLASS[code / 100] : RQ_CLASS[code / 100]);
                classes.set(classSlot, k);
            }
            k.inc();
        }
    }
}
