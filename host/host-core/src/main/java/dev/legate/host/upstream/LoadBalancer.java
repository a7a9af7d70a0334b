package dev.legate.host.upstream;

import dev.legate.api.upstream.LoadBalancerContext;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster's {@code lb_policy} over a {@link HostSet} (Envoy's {@code source/extensions/load_balancing_policies}).
 * Thread-safe and lock-free: one instance serves every event loop.
 */
abstract class LoadBalancer {

    /** A host of {@code set.lb}; the set is not empty. Any thread. */
    abstract HostImpl pick(HostSet set);

    /**
     * The lookup table of a consistent-hash policy ({@code RING_HASH}, {@code MAGLEV}) over {@code hosts} (a
     * host set's {@code lb} hosts, not empty), or {@code null} for the other policies. Called once per host set,
     * where the set is built (the main thread or the cluster manager's DNS thread), never on an event loop:
     * Envoy's {@code ThreadAwareLoadBalancerBase::refresh}. The table is immutable and published with the set.
     */
    HashTable buildTable(HostImpl[] hosts) {
        return null;
    }

    /**
     * A host for one request or connection (Envoy's {@code LoadBalancerBase::chooseHost},
     * {@code source/extensions/load_balancing_policies/common/load_balancer_impl.cc}): up to
     * {@code context.hostSelectionRetryCount() + 1} picks, returning the first that
     * {@link LoadBalancerContext#shouldSelectAnotherHost} accepts, else the last one. {@code set} is not empty.
     */
    HostImpl chooseHost(HostSet set, LoadBalancerContext context) {
        int attempts = maxAttempts(context);
        HostImpl h = null;
        for (int i = 0; i < attempts; i++) {
            h = pick(set);
            if (context == null || !context.shouldSelectAnotherHost(h)) {
                return h;
            }
        }
        return h;
    }

    /** Envoy's {@code context ? context->hostSelectionRetryCount() + 1 : 1} (a negative count reads as 0). */
    static int maxAttempts(LoadBalancerContext context) {
        return context == null ? 1 : Math.max(0, context.hostSelectionRetryCount()) + 1;
    }

    /** A consistent-hash lookup table (Envoy's {@code ThreadAwareLoadBalancerBase::HashingLoadBalancer}). Immutable. */
    interface HashTable {
        /**
         * The host of {@code hash} (Envoy's unsigned 64-bit hash) for host-selection attempt {@code attempt}
         * (0 first; later attempts move to another entry deterministically, as Envoy's {@code chooseHost(hash,
         * attempt)}).
         */
        HostImpl chooseHost(long hash, int attempt);
    }

    static LoadBalancer of(ClusterSettings s) {
        return switch (s.policy) {
            case ROUND_ROBIN -> new RoundRobin();
            case LEAST_REQUEST -> new LeastRequest(s.choiceCount, s.activeRequestBias);
            case RANDOM -> new RandomLb();
            case RING_HASH -> new RingHashLoadBalancer(s.minimumRingSize, s.maximumRingSize, s.ringHashFunction,
                    s.useHostnameForHashing);
            case MAGLEV -> new MaglevLoadBalancer(s.maglevTableSize, s.useHostnameForHashing);
        };
    }

    /**
     * {@code ROUND_ROBIN}: plain rotation when weights are equal, otherwise a smooth weighted round robin
     * schedule (the same long-run shares as Envoy's EDF, interleaved). One shared atomic cursor.
     */
    static final class RoundRobin extends LoadBalancer {
        private final AtomicLong cursor = new AtomicLong(ThreadLocalRandom.current().nextInt(1 << 16));

        @Override
        HostImpl pick(HostSet set) {
            long i = cursor.getAndIncrement() & Long.MAX_VALUE;
            if (set.schedule == null) {
                return set.lb[(int) (i % set.lb.length)];
            }
            return set.lb[set.schedule[(int) (i % set.schedule.length)]];
        }
    }

    /**
     * {@code LEAST_REQUEST}: Envoy's power of {@code choice_count} choices (default 2): draw that many random
     * hosts and take the one with the fewest active requests (ties: the first drawn). With unequal weights
     * the candidates are drawn with probability proportional to {@code load_balancing_weight}, so an idle
     * cluster splits by weight and a loaded one steers to the least busy host; {@code active_request_bias: 0}
     * makes it weighted random. This approximates Envoy's EDF over {@code weight / (active + 1)^bias}
     * without a shared mutable schedule.
     */
    static final class LeastRequest extends LoadBalancer {
        private final int choices;
        private final double bias;

        LeastRequest(int choices, double bias) {
            this.choices = choices;
            this.bias = bias;
        }

        @Override
        HostImpl pick(HostSet set) {
            HostImpl[] hosts = set.lb;
            if (hosts.length == 1) {
                return hosts[0];
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            if (set.equalWeights) {
                HostImpl best = hosts[r.nextInt(hosts.length)];
                for (int i = 1; i < choices; i++) {
                    HostImpl c = hosts[r.nextInt(hosts.length)];
                    if (c.activeRequests() < best.activeRequests()) {
                        best = c;
                    }
                }
                return best;
            }
            long total = set.cumulativeWeights[hosts.length - 1];
            HostImpl best = weighted(set, r.nextLong(total));
            if (bias == 0) {
                return best;
            }
            for (int i = 1; i < choices; i++) {
                HostImpl c = weighted(set, r.nextLong(total));
                if (c.activeRequests() < best.activeRequests()) {
                    best = c;
                }
            }
            return best;
        }
    }

    private static HostImpl weighted(HostSet set, long ticket) {
        int idx = Arrays.binarySearch(set.cumulativeWeights, ticket + 1);
        return set.lb[idx >= 0 ? idx : -idx - 1];
    }

    /**
     * The text a consistent-hash balancer places {@code h} by (Envoy's {@code HashingLoadBalancer::hashKey},
     * {@code thread_aware_lb_impl.h}): the endpoint's {@code metadata.filter_metadata["envoy.lb"].hash_key} when
     * set, else its {@code hostname} with {@code use_hostname_for_hashing}, else {@code ip:port} (Envoy's
     * {@code address()->asString()}). Envoy takes an empty hostname as is; Legate falls back to the address.
     */
    static String hashKey(HostImpl h, boolean useHostname) {
        if (!h.hashKey().isEmpty()) {
            return h.hashKey();
        }
        return useHostname && !h.hostname().isEmpty() ? h.hostname() : h.addressString();
    }

    /** {@code RANDOM}: uniform among the available hosts (Envoy ignores weights here too). */

    static final class RandomLb extends LoadBalancer {
        @Override
        HostImpl pick(HostSet set) {
            return random(set);
        }

        /** A uniformly random host of {@code set.lb} (not empty). */
        static HostImpl random(HostSet set) {
            return set.lb[ThreadLocalRandom.current().nextInt(set.lb.length)];
        }
    }
}
