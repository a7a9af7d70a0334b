package dev.legate.host.upstream;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable snapshot of a cluster's hosts and the structures its load balancer reads (Envoy's
 * {@code PrioritySet} for priority 0). A new snapshot replaces the old one atomically when DNS answers
 * change; readers never lock.
 *
 * <p>Hosts the load balancer may choose: the healthy ones; the degraded ones when none is healthy; all of
 * them in <em>panic</em>, when fewer than {@code healthy_panic_threshold} percent (default 50) are healthy
 * or degraded (Envoy's panic mode, {@code source/common/upstream/load_balancer_impl.cc}).
 */
final class HostSet {

    /** Cap on the length of a weighted round-robin schedule. */
    private static final int MAX_SCHEDULE = 1 << 16;

    static final HostSet EMPTY = new HostSet(List.of(), 50);

    final List<HostImpl> all;
    final HostImpl[] lb;
    final boolean panic;
    final boolean equalWeights;
    /** Weighted round-robin order: indexes into {@link #lb} (smooth weighted round robin); null if weights are equal. */
    final int[] schedule;
    /** Cumulative weights of {@link #lb}, for weighted random sampling. */
    final long[] cumulativeWeights;
    final int healthyCount;
    final int maxWeight;
    /**
     * The consistent-hash table of {@link #lb} ({@code RING_HASH}, {@code MAGLEV}), built with the set and
     * published with it (a final field of an immutable object); null for the other policies and when
     * {@link #lb} is empty.
     */
    final LoadBalancer.HashTable hashTable;

    HostSet(List<HostImpl> hosts, int panicThresholdPercent) {
        this(hosts, panicThresholdPercent, null);
    }

    /**
     * Builds the snapshot, and {@code balancer}'s table of its available hosts when it has one (this can take
     * hundreds of milliseconds for the biggest rings and tables, so it runs here, on the main or DNS thread,
     * never on an event loop).
     *
     * @param balancer the cluster's load balancer; null: no table
     */
    HostSet(List<HostImpl> hosts, int panicThresholdPercent, LoadBalancer balancer) {
        this.all = List.copyOf(hosts);
        List<HostImpl> healthy = new ArrayList<>();
        List<HostImpl> degraded = new ArrayList<>();
        int max = 0;
        for (HostImpl h : all) {
            if (h.healthy()) {
                healthy.add(h);
            } else if (h.degraded()) {
                degraded.add(h);
            }
            max = Math.max(max, h.weight());
        }
        this.maxWeight = max;
        this.healthyCount = healthy.size();
        int available = healthy.size() + degraded.size();
        boolean inPanic = !all.isEmpty() && panicThresholdPercent > 0
                && available * 100L < (long) panicThresholdPercent * all.size();
        List<HostImpl> chosen = inPanic ? all : !healthy.isEmpty() ? healthy : degraded;
        this.panic = inPanic;
        this.lb = chosen.toArray(new HostImpl[0]);

        boolean equal = true;
        long[] cum = new long[lb.length];
        long sum = 0;
        for (int i = 0; i < lb.length; i++) {
            sum += lb[i].weight();
            cum[i] = sum;
            if (lb[i].weight() != lb[0].weight()) {
                equal = false;
            }
        }
        this.equalWeights = equal;
        this.cumulativeWeights = cum;
        this.schedule = equal ? null : smoothWeightedSchedule(lb);
        this.hashTable = balancer == null || lb.length == 0 ? null : balancer.buildTable(lb);
    }

    /**
     * nginx's smooth weighted round robin over one full period (weights divided by their gcd, scaled down
     * when the period would exceed {@value #MAX_SCHEDULE}): weights 1:3 give {@code b a b b}, interleaved
     * rather than bursty, like Envoy's EDF scheduler.
     */
    private static int[] smoothWeightedSchedule(HostImpl[] hosts) {
        int n = hosts.length;
        long[] w = new long[n];
        long g = 0;
        for (int i = 0; i < n; i++) {
            w[i] = hosts[i].weight();
            g = gcd(g, w[i]);
        }
        long total = 0;
        for (int i = 0; i < n; i++) {
            w[i] /= g;
            total += w[i];
        }
        if (total > MAX_SCHEDULE) {
            double scale = (double) Math.max(MAX_SCHEDULE, n) / total;
            total = 0;
            for (int i = 0; i < n; i++) {
                w[i] = Math.max(1, Math.round(w[i] * scale));
                total += w[i];
            }
        }
        int[] out = new int[(int) total];
        long[] current = new long[n];
        for (int k = 0; k < out.length; k++) {
            int best = 0;
            for (int i = 0; i < n; i++) {
                current[i] += w[i];
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            out[k] = best;
        }
        return out;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
