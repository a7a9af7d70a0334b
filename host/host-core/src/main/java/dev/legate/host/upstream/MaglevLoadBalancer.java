package dev.legate.host.upstream;

/**
 * {@code MAGLEV}: Envoy's Maglev table ({@code source/extensions/load_balancing_policies/maglev/
 * maglev_lb.cc}, after Google's paper). Each available host, in host-set order, gets
 * {@code offset = xxHash64(ip:port) % size} (the hostname with {@code use_hostname_for_hashing}) and {@code skip = xxHash64(ip:port, seed 1) % (size - 1) + 1};
 * hosts take turns filling their next free slot of their permutation, a host of normalized weight
 * {@code w} taking a turn every {@code max_w / w} rounds, until the {@code table_size} slots (a prime,
 * default 65537) are full. A request's hash picks {@code table[hash % size]} (unsigned). With no hash key a
 * host is picked at random.
 *
 * <p>Thread-safe: the table is built on first use per {@link HostSet} and cached until the set changes
 * ({@link ThreadAwareLoadBalancer}).
 */
final class MaglevLoadBalancer extends ThreadAwareLoadBalancer<MaglevLoadBalancer.Table> {

    /** Envoy's default {@code maglev_lb_config.table_size}. */
    static final long DEFAULT_TABLE_SIZE = 65537;

    private final int tableSize;
    private final boolean useHostname;

    MaglevLoadBalancer(long tableSize, boolean useHostname) {
        this.tableSize = (int) tableSize;
        this.useHostname = useHostname;
    }

    @Override
    Table build(HostSet set) {
        return new Table(set, tableSize, useHostname);
    }

    @Override
    HostImpl choose(Table t, long hash) {
        return t.slots[(int) Long.remainderUnsigned(hash, t.slots.length)];
    }

    /** One lookup table. Immutable once built. */
    static final class Table {
        final HostImpl[] slots;

        Table(HostSet set, int size, boolean useHostname) {
            HostImpl[] lb = set.lb;
            int n = lb.length;
            long[] offset = new long[n];
            long[] skip = new long[n];
            long[] next = new long[n];
            double[] weight = new double[n];
            double[] target = new double[n];
            double total = 0;
            for (HostImpl h : lb) {
                total += h.weight();
            }
            double maxWeight = 0;
            for (int i = 0; i < n; i++) {
                String key = hashKey(lb[i], useHostname);
                offset[i] = Long.remainderUnsigned(HashFunctions.xxHash64(key, 0), size);
                skip[i] = Long.remainderUnsigned(HashFunctions.xxHash64(key, 1), size - 1) + 1;
                weight[i] = lb[i].weight() / total;
                maxWeight = Math.max(maxWeight, weight[i]);
            }
            slots = new HostImpl[size];
            int filled = 0;
            for (long iteration = 1; filled < size && n > 0; iteration++) {
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
                    filled++;
                }
            }
        }
    }
}
