package dev.legate.api.upstream;

/**
 * What a load balancer may use to choose a host for one request or connection. All defaults mean "no
 * hint".
 */
public interface LoadBalancerContext {

    LoadBalancerContext NONE = new LoadBalancerContext() { };

    /** A hash for consistent-hash policies, or {@code null}. */
    default Long hashKey() {
        return null;
    }

    /** Whether {@code host} should be skipped (for example, the host a retry just failed on). */
    default boolean shouldSelectAnotherHost(Host host) {
        return false;
    }

    /**
     * How many more times the load balancer picks when {@link #shouldSelectAnotherHost} refuses a host; after
     * {@code 1 + this} picks the last host is used anyway. Envoy's {@code hostSelectionRetryCount()}: 1 by default
     * ({@code LoadBalancerContextBase}), a route's {@code retry_policy.host_selection_retry_max_attempts} on a
     * retry.
     */
    default int hostSelectionRetryCount() {
        return 1;
    }
}
