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
}
