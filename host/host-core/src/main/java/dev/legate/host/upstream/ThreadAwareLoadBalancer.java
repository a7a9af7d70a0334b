package dev.legate.host.upstream;

import dev.legate.api.upstream.LoadBalancerContext;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What Envoy's consistent-hash balancers share ({@code ThreadAwareLoadBalancerBase},
 * {@code source/extensions/load_balancing_policies/common/thread_aware_lb_impl.cc}): a lookup table (a ring, a
 * Maglev table) built from the available hosts when a {@link HostSet} is built ({@link #buildTable}, Envoy's
 * {@code refresh()} on the main thread) and published with it, so picks only read it. A request's hash picks a
 * host from the table; a request without a hash key uses a random hash, as Envoy does.
 *
 * <p>Thread-safe: picks read the immutable table of the {@link HostSet} they were given.
 */
abstract class ThreadAwareLoadBalancer extends LoadBalancer {

    /** Builds the table of {@code hosts} (not empty). Main or DNS thread; may take a while for big tables. */
    @Override
    abstract HashTable buildTable(HostImpl[] hosts);

    /** A host for a random hash (no hash key). */
    @Override
    final HostImpl pick(HostSet set) {
        return set.hashTable.chooseHost(ThreadLocalRandom.current().nextLong(), 0);
    }

    /**
     * Envoy's {@code ThreadAwareLoadBalancerBase::LoadBalancerImpl::chooseHost}: the hash is the context's
     * {@link LoadBalancerContext#hashKey()} (or a random one), computed once; attempt {@code i} of
     * {@code hostSelectionRetryCount() + 1} asks the table for {@code chooseHost(hash, i)}, and the first host
     * {@link LoadBalancerContext#shouldSelectAnotherHost} accepts (else the last one) is returned. Re-picks are
     * deterministic for a given hash.
     */
    @Override
    final HostImpl chooseHost(HostSet set, LoadBalancerContext context) {
        HashTable table = set.hashTable;
        Long key = context == null ? null : context.hashKey();
        long hash = key != null ? key : ThreadLocalRandom.current().nextLong();
        int attempts = maxAttempts(context);
        HostImpl h = null;
        for (int i = 0; i < attempts; i++) {
            h = table.chooseHost(hash, i);
            if (context == null || !context.shouldSelectAnotherHost(h)) {
                return h;
            }
        }
        return h;
    }
}
