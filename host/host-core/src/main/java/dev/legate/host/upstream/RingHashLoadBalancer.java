package dev.legate.host.upstream;

import java.util.Arrays;

/**
 * {@code RING_HASH}: Envoy's ketama ring ({@code source/extensions/load_balancing_policies/ring_hash/
 * ring_hash_lb.cc}). Each available host gets a share of {@code ring size} points proportional to its
 * weight, each point the hash of {@code "<ip:port>_<i>"} (or {@code "<hostname>_<i>"} with
 * {@code use_hostname_for_hashing}) (xxHash64, or MurmurHash2 with
 * {@code hash_function: MURMUR_HASH_2}); a request's hash picks the first point at or after it, wrapping
 * to the first. The ring size is {@code ceil(min_weight * minimum_ring_size) / min_weight} (normalized
 * weights), capped at {@code maximum_ring_size}. With no hash key a host is picked at random, as Envoy's
 * thread-aware balancers do.
 *
 * <p>Thread-safe: the ring is built from a {@link HostSet} on first use and cached until the set changes
 * ({@link ThreadAwareLoadBalancer}).
 */
final class RingHashLoadBalancer extends ThreadAwareLoadBalancer<RingHashLoadBalancer.Ring> {

    /** Hash functions of {@code ring_hash_lb_config.hash_function}. */
    enum HashFunction { XX_HASH, MURMUR_HASH_2 }

    private final long minRingSize;
    private final long maxRingSize;
    private final HashFunction hashFunction;
    private final boolean useHostname;

    RingHashLoadBalancer(long minRingSize, long maxRingSize, HashFunction hashFunction, boolean useHostname) {
        this.minRingSize = minRingSize;
        this.maxRingSize = maxRingSize;
        this.hashFunction = hashFunction;
        this.useHostname = useHostname;
    }

    @Override
    Ring build(HostSet set) {
        return new Ring(set, minRingSize, maxRingSize, hashFunction, useHostname);
    }

    @Override
    HostImpl choose(Ring ring, long hash) {
        return ring.choose(hash);
    }

    /** One ring: sorted hashes and the host of each. Immutable. */
    static final class Ring {
        final long[] hashes;
        final HostImpl[] hosts;
        final long minHashesPerHost;
        final long maxHashesPerHost;

        Ring(HostSet set, long minRingSize, long maxRingSize, HashFunction fn, boolean useHostname) {
            HostImpl[] lb = set.lb;
            double total = 0;
            for (HostImpl h : lb) {
                total += h.weight();
            }
            double minNormalized = 1.0;
            for (HostImpl h : lb) {
                minNormalized = Math.min(minNormalized, h.weight() / total);
            }
            double scale = Math.min(Math.ceil(minNormalized * minRingSize) / minNormalized, (double) maxRingSize);
            int size = (int) Math.ceil(scale);
            long[] hs = new long[size + lb.length];
            HostImpl[] owners = new HostImpl[hs.length];
            int n = 0;
            double current = 0;
            double target = 0;
            long minPer = Long.MAX_VALUE;
            long maxPer = 0;
            for (HostImpl h : lb) {
                String prefix = hashKey(h, useHostname) + "_";
                target += scale * (h.weight() / total);
                long i = 0;
                while (current < target && n < hs.length) {
                    String key = prefix + i;
                    hs[n] = fn == HashFunction.MURMUR_HASH_2
                            ? HashFunctions.murmurHash2(key) : HashFunctions.xxHash64(key, 0);
                    owners[n] = h;
                    n++;
                    i++;
                    current++;
                }
                minPer = Math.min(minPer, i);
                maxPer = Math.max(maxPer, i);
            }
            // Sort (hash, host) pairs by unsigned hash.
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            long[] raw = hs;
            Arrays.sort(order, (a, b) -> Long.compareUnsigned(raw[a], raw[b]));
            this.hashes = new long[n];
            this.hosts = new HostImpl[n];
            for (int i = 0; i < n; i++) {
                hashes[i] = raw[order[i]];
                hosts[i] = owners[order[i]];
            }
            this.minHashesPerHost = lb.length == 0 ? 0 : minPer;
            this.maxHashesPerHost = maxPer;
        }

        /** The host of the first point whose hash is {@code >= h} (unsigned), wrapping to the first. */
        HostImpl choose(long h) {
            int lo = 0;
            int hi = hashes.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (Long.compareUnsigned(hashes[mid], h) < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return hosts[lo == hashes.length ? 0 : lo];
        }

        int size() {
            return hashes.length;
        }
    }
}
