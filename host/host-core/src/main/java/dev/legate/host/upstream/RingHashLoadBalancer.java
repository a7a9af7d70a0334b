package dev.legate.host.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * {@code RING_HASH}: Envoy's ketama ring ({@code source/extensions/load_balancing_policies/ring_hash/
 * ring_hash_lb.cc}). Each available host gets a share of {@code ring size} points proportional to its
 * weight, each point the hash of {@code "<key>_<i>"} where the key is {@link LoadBalancer#hashKey} (the
 * {@code envoy.lb} {@code hash_key} metadata, the hostname with {@code use_hostname_for_hashing}, or
 * {@code ip:port}), hashed with xxHash64, or MurmurHash2 with {@code hash_function: MURMUR_HASH_2}; a request's
 * hash picks the first point at or after it, wrapping to the first. The ring size is
 * {@code ceil(min_weight * minimum_ring_size) / min_weight} (normalized weights), capped at
 * {@code maximum_ring_size}. Attempt {@code n} of a host selection takes the point {@code n} places further on.
 *
 * <p>Thread-safe: the ring is built once per host set where the set is built ({@link ThreadAwareLoadBalancer}).
 */
final class RingHashLoadBalancer extends ThreadAwareLoadBalancer {

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
    Ring buildTable(HostImpl[] hosts) {
        return new Ring(hosts, minRingSize, maxRingSize, hashFunction, useHostname);
    }

    /** One ring: hashes sorted as unsigned, and the host of each. Immutable. */
    static final class Ring implements HashTable {
        final long[] hashes;
        final HostImpl[] hosts;
        final long minHashesPerHost;
        final long maxHashesPerHost;

        /** Envoy's {@code RingHashLoadBalancer::Ring::Ring}; {@code lb} not empty. */
        Ring(HostImpl[] lb, long minRingSize, long maxRingSize, HashFunction fn, boolean useHostname) {
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
            // At most size + 1 points: the running sums below can round one point over.
            long[] hs = new long[size + 1];
            int[] owner = new int[hs.length];
            int n = 0;
            double current = 0;
            double target = 0;
            long minPer = size;
            long maxPer = 0;
            byte[] buf = new byte[64];
            for (int k = 0; k < lb.length; k++) {
                byte[] prefix = (hashKey(lb[k], useHostname) + "_").getBytes(StandardCharsets.UTF_8);
                if (buf.length < prefix.length + 20) {
                    buf = new byte[prefix.length + 20];
                }
                System.arraycopy(prefix, 0, buf, 0, prefix.length);
                target += scale * (lb[k].weight() / total);
                long i = 0;
                while (current < target) {
                    if (n == hs.length) {
                        hs = Arrays.copyOf(hs, n + 16);
                        owner = Arrays.copyOf(owner, n + 16);
                    }
                    int len = prefix.length + writeDecimal(i, buf, prefix.length);
                    hs[n] = fn == HashFunction.MURMUR_HASH_2
                            ? HashFunctions.murmurHash2(buf, len) : HashFunctions.xxHash64(buf, len, 0);
                    owner[n] = k;
                    n++;
                    i++;
                    current++;
                }
                minPer = Math.min(minPer, i);
                maxPer = Math.max(maxPer, i);
            }
            sortUnsigned(hs, owner, n);
            this.hashes = Arrays.copyOf(hs, n);
            this.hosts = new HostImpl[n];
            for (int i = 0; i < n; i++) {
                hosts[i] = lb[owner[i]];
            }
            this.minHashesPerHost = minPer;
            this.maxHashesPerHost = maxPer;
        }

        /**
         * Envoy's {@code Ring::chooseHost} (ketama's {@code ketama_get_server}): the first point whose hash is
         * {@code >= h} (unsigned), wrapping to the first; attempt {@code n > 0} takes the point {@code n} places
         * further on, modulo the ring size (which does not guarantee another host, as in Envoy).
         */
        @Override
        public HostImpl chooseHost(long h, int attempt) {
            long lowp = 0;
            long highp = hashes.length;
            long midp;
            while (true) {
                midp = (lowp + highp) / 2;
                if (midp == hashes.length) {
                    midp = 0;
                    break;
                }
                long midval = hashes[(int) midp];
                long midval1 = midp == 0 ? 0 : hashes[(int) midp - 1];
                if (Long.compareUnsigned(h, midval) <= 0 && Long.compareUnsigned(h, midval1) > 0) {
                    break;
                }
                if (Long.compareUnsigned(midval, h) < 0) {
                    lowp = midp + 1;
                } else {
                    highp = midp - 1;
                }
                if (lowp > highp) {
                    midp = 0;
                    break;
                }
            }
            if (attempt > 0) {
                midp = (midp + Integer.toUnsignedLong(attempt)) % hashes.length;
            }
            return hosts[(int) midp];
        }

        int size() {
            return hashes.length;
        }
    }

    /** Writes {@code v} (>= 0) in decimal at {@code buf[off]}; returns the digit count. */
    private static int writeDecimal(long v, byte[] buf, int off) {
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        for (int p = off + digits - 1; p >= off; p--) {
            buf[p] = (byte) ('0' + (v % 10));
            v /= 10;
        }
        return digits;
    }

    /**
     * Sorts {@code keys[0..n)} as unsigned 64-bit values, permuting {@code values} alongside: an LSD radix sort
     * (8 passes of 8 bits, stable, no boxing), so a ring of millions of points sorts in a fraction of a second.
     */
    static void sortUnsigned(long[] keys, int[] values, int n) {
        if (n < 2) {
            return;
        }
        long[] k2 = new long[n];
        int[] v2 = new int[n];
        long[] srcK = keys;
        int[] srcV = values;
        long[] dstK = k2;
        int[] dstV = v2;
        int[] count = new int[257];
        for (int shift = 0; shift < 64; shift += 8) {
            Arrays.fill(count, 0);
            for (int i = 0; i < n; i++) {
                count[(int) ((srcK[i] >>> shift) & 0xFF) + 1]++;
            }
            if (count[(int) ((srcK[0] >>> shift) & 0xFF) + 1] == n) {
                continue; // every key has the same byte here: this pass would not move anything
            }
            for (int b = 0; b < 256; b++) {
                count[b + 1] += count[b];
            }
            for (int i = 0; i < n; i++) {
                int d = count[(int) ((srcK[i] >>> shift) & 0xFF)]++;
                dstK[d] = srcK[i];
                dstV[d] = srcV[i];
            }
            long[] tk = srcK;
            srcK = dstK;
            dstK = tk;
            int[] tv = srcV;
            srcV = dstV;
            dstV = tv;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, 0, keys, 0, n);
            System.arraycopy(srcV, 0, values, 0, n);
        }
    }
}
