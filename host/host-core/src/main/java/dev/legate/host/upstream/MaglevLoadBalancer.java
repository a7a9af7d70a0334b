package dev.legate.host.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * {@code MAGLEV}: Envoy's Maglev table ({@code source/extensions/load_balancing_policies/maglev/
 * maglev_lb.cc}, after Google's paper). The available hosts are sorted by their key ({@link LoadBalancer#hashKey}:
 * the {@code envoy.lb} {@code hash_key} metadata, the hostname with {@code use_hostname_for_hashing}, or
 * {@code ip:port}), so the table does not depend on host order; each gets {@code offset = xxHash64(key) % size}
 * and {@code skip = xxHash64(key, seed 1) % (size - 1) + 1}; hosts take turns filling their next free slot of
 * their permutation, a host of normalized weight {@code w} taking a turn every {@code max_w / w} rounds, until the
 * {@code table_size} slots (a prime, default 65537) are full. A request's hash picks {@code table[hash % size]}
 * (unsigned); attempt {@code n > 0} of a host selection uses {@code hash ^ (2^64 - n)} instead.
 *
 * <p>Thread-safe: the table is built once per host set where the set is built ({@link ThreadAwareLoadBalancer}).
 */
final class MaglevLoadBalancer extends ThreadAwareLoadBalancer {

    /** Envoy's default {@code maglev_lb_config.table_size}. */
    static final long DEFAULT_TABLE_SIZE = 65537;

    private final int tableSize;
    private final boolean useHostname;

    MaglevLoadBalancer(long tableSize, boolean useHostname) {
        this.tableSize = (int) tableSize;
        this.useHostname = useHostname;
    }

    @Override
    Table buildTable(HostImpl[] hosts) {
        return new Table(hosts, tableSize, useHostname);
    }

    /** One lookup table. Immutable once built. */
    static final class Table implements HashTable {
        final HostImpl[] slots;
        final long minEntriesPerHost;
        final long maxEntriesPerHost;

        /** Envoy's {@code MaglevTable::constructMaglevTableInternal} + {@code OriginalMaglevTable}; {@code hosts} not empty. */
        Table(HostImpl[] hosts, int size, boolean useHostname) {
            int n = hosts.length;
            double total = 0;
            for (HostImpl h : hosts) {
                total += h.weight();
            }
            // Envoy sorts (key, host, weight) tuples by key (byte-wise) so the table is independent of host order.
            byte[][] keys = new byte[n][];
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                keys[i] = hashKey(hosts[i], useHostname).getBytes(StandardCharsets.UTF_8);
                order[i] = i;
            }
            Arrays.sort(order, Comparator.comparing(i -> keys[i], Arrays::compareUnsigned));
            HostImpl[] lb = new HostImpl[n];
            long[] offset = new long[n];
            long[] skip = new long[n];
            long[] next = new long[n];
            long[] count = new long[n];
            double[] weight = new double[n];
            double[] target = new double[n];
            double maxWeight = 0;
            for (int i = 0; i < n; i++) {
                byte[] key = keys[order[i]];
                lb[i] = hosts[order[i]];
                offset[i] = Long.remainderUnsigned(HashFunctions.xxHash64(key, key.length, 0), size);
                skip[i] = Long.remainderUnsigned(HashFunctions.xxHash64(key, key.length, 1), size - 1) + 1;
                weight[i] = lb[i].weight() / total;
                maxWeight = Math.max(maxWeight, weight[i]);
            }
            slots = new HostImpl[size];
            int filled = 0;
            for (long iteration = 1; filled < size; iteration++) {
                for (int i = 0; i < n && filled < size; i++) {
                    if (iteration * weight[i] < target[i]) {
                        continue;
                    }
                    target[i] += maxWeight;
                    int c = (int) ((offset[i] + skip[i] * next[i]) % size);
                    while (slots[c] != null) {
                        next[i]++;
                        c = (int) ((offset[i] + skip[i] * next[i]) % size);
                    }
                    slots[c] = lb[i];
                    next[i]++;
                    count[i]++;
                    filled++;
                }
            }
            long min = size;
            long max = 0;
            for (long c : count) {
                min = Math.min(min, c);
                max = Math.max(max, c);
            }
            minEntriesPerHost = min;
            maxEntriesPerHost = max;
        }

        /** Envoy's {@code OriginalMaglevTable::chooseHost}: attempt {@code n > 0} XORs the hash with {@code ~0 - n + 1}. */
        @Override
        public HostImpl chooseHost(long hash, int attempt) {
            if (attempt > 0) {
                hash ^= -Integer.toUnsignedLong(attempt);
            }
            return slots[(int) Long.remainderUnsigned(hash, slots.length)];
        }
    }
}
