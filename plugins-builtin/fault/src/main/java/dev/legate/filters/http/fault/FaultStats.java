package dev.legate.filters.http.fault;

import static java.util.Objects.requireNonNull;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Stats;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fault filter's stats under {@code http.<stat_prefix>.fault.} (Envoy's {@code ALL_FAULT_FILTER_STATS},
 * source/extensions/filters/http/fault/fault_filter.h): looked up once when the factory binds its config, plus
 * the per-downstream-cluster counters {@code http.<stat_prefix>.fault.<downstream_cluster>.delays_injected} /
 * {@code .aborts_injected}, looked up the first time a cluster is seen and kept. Thread-safe; shared by every
 * event loop.
 */
final class FaultStats {

    static final String DELAYS_INJECTED = "delays_injected";
    static final String ABORTS_INJECTED = "aborts_injected";
    static final String RESPONSE_RL_INJECTED = "response_rl_injected";
    static final String FAULTS_OVERFLOW = "faults_overflow";
    static final String ACTIVE_FAULTS = "active_faults";

    /** Requests delayed. */
    final Counter delaysInjected;
    /** Requests aborted. */
    final Counter abortsInjected;
    /** Responses given a rate limit (counted when selected, whether or not a body was then throttled). */
    final Counter responseRlInjected;
    /** Faults not injected because {@code max_active_faults} were active. */
    final Counter faultsOverflow;
    /** Streams with a fault in progress (each counts once, whatever its faults). */
    final Gauge activeFaults;

    private final Stats scope;
    private final ConcurrentHashMap<String, Counter> downstreamDelays = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> downstreamAborts = new ConcurrentHashMap<>();

    /**
     * @param httpScope the HCM's {@code http.<stat_prefix>.} scope, as {@code FactoryContext.stats()} gives it to
     *                  the filters of an {@code http_filters} list
     */
    FaultStats(Stats httpScope) {
        scope = requireNonNull(httpScope, "httpScope").scope("fault");
        delaysInjected = scope.counter(DELAYS_INJECTED);
        abortsInjected = scope.counter(ABORTS_INJECTED);
        responseRlInjected = scope.counter(RESPONSE_RL_INJECTED);
        faultsOverflow = scope.counter(FAULTS_OVERFLOW);
        activeFaults = scope.gauge(ACTIVE_FAULTS);
    }

    /** {@code <downstream_cluster>.delays_injected}; {@code cluster} is non-empty. */
    Counter downstreamDelays(String cluster) {
        return downstreamDelays.computeIfAbsent(cluster, c -> scope.counter(c + "." + DELAYS_INJECTED));
    }

    /** {@code <downstream_cluster>.aborts_injected}; {@code cluster} is non-empty. */
    Counter downstreamAborts(String cluster) {
        return downstreamAborts.computeIfAbsent(cluster, c -> scope.counter(c + "." + ABORTS_INJECTED));
    }
}
