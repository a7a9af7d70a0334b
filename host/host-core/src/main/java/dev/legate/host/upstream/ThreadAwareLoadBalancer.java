package dev.legate.host.upstream;

/**
 * What Envoy's consistent-hash balancers share ({@code ThreadAwareLoadBalancerBase},
 * {@code source/extensions/load_balancing_policies/common/thread_aware_lb_impl.cc}): a lookup structure
 * ({@code T}: a ring, a Maglev table) built from the {@link HostSet} and cached until the set changes; a request's
 * hash picks a host from it, and a request without a hash key gets a random host.
 *
 * <p>Thread-safe: a racing rebuild is harmless (both build the same structure from the same set).
 *
 * @param <T> the immutable lookup structure
 */
abstract class ThreadAwareLoadBalancer<T> extends LoadBalancer {

    private record Built<T>(HostSet set, T table) {
    }

    private volatile Built<T> built;

    /** Builds the lookup structure of {@code set} (its {@code lb} hosts, not empty). */
    abstract T build(HostSet set);

    /** The host {@code hash} (Envoy's unsigned 64-bit hash) picks in {@code table}. */
    abstract HostImpl choose(T table, long hash);

    @Override
    final HostImpl pick(HostSet set) {
        return RandomLb.random(set);
    }

    @Override
    final HostImpl pick(HostSet set, Long hash) {
        if (hash == null) {
            return RandomLb.random(set);
        }
        return choose(table(set), hash);
    }

    /** The lookup structure of {@code set}, built on first use and cached until the set changes. */
    final T table(HostSet set) {
        Built<T> b = built;
        if (b == null || b.set != set) {
            b = new Built<>(set, build(set));
            built = b;
        }
        return b.table;
    }
}
