package dev.legate.host.upstream;

import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster's {@code lb_policy} over a {@link HostSet} (Envoy's {@code source/extensions/load_balancing_policies}).
 * Thread-safe and lock-free: one instance serves every event loop.
 */
abstract class LoadBalancer {

    /** A host of {@code set.lb}; the set is not empty. */
    abstract HostImpl pick(HostSet set);

    /**
     * A host of {@code set.lb} for a request whose {@link dev.legate.api.upstream.LoadBalancerContext#hashKey()}
     * is {@code hash} ({@code null}: none). Only the consistent-hash policies ({@code RING_HASH},
     * {@code MAGLEV}) use it; the others ignore it, as in Envoy.
     */
    HostImpl pick(HostSet set, Long hash) {
        return pick(set);
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

    /** {@code RANDOM}: uniform among the available hosts (Envoy ignores weights here too). */
    /**
     * The text a consistent-hash balancer places {@code h} by: {@code ip:port} (Envoy's
     * {@code address()->asString()}), or its {@code hostname} with {@code use_hostname_for_hashing} (the address
     * when it has none).
     */
    static String hashKey(HostImpl h, boolean useHostname) {
        return useHostname && !h.hostname().isEmpty() ? h.hostname() : h.addressString();
    }

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
