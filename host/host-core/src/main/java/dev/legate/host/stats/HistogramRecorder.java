package dev.legate.host.stats;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The values of one histogram in log-linear buckets: exact below 32, then 32 buckets per power of two (a
 * relative error under 3.2%, like the ~2 significant digits of Envoy's circllhist). {@link #record} is
 * lock-free (one atomic increment and one adder) and may run on any event loop; everything else runs on the
 * admin thread.
 *
 * <p>Values are non-negative longs (Envoy's time histograms are milliseconds); a negative value counts as 0.
 */
final class HistogramRecorder {

    /** Envoy's supported quantiles ({@code HistogramSettingsImpl}), as fractions. */
    static final double[] SUPPORTED_QUANTILES = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1};

    /** Envoy's default Prometheus bucket bounds. */
    static final double[] PROMETHEUS_BUCKETS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
        30000, 60000, 300000, 600000, 1800000, 3600000};

    private static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;
    static final int BUCKETS = SUB + (63 - SUB_BITS) * SUB;

    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final LongAdder sum = new LongAdder();

    // Interval state, guarded by this; touched only by flush and render (admin side).
    private long[] lastBoundary = new long[BUCKETS];
    private long[] interval = new long[BUCKETS];

    void record(long value) {
        long v = Math.max(0, value);
        counts.incrementAndGet(index(v));
        sum.add(v);
    }

    static int index(long v) {
        if (v < SUB) {
            return (int) v;
        }
        int e = 63 - Long.numberOfLeadingZeros(v);
        int sub = (int) (v >>> (e - SUB_BITS)) - SUB;
        return SUB + (e - SUB_BITS) * SUB + sub;
    }

    /** The smallest value of bucket {@code i}. */
    static long lowerBound(int i) {
        if (i < SUB) {
            return i;
        }
        int e = (i - SUB) / SUB + SUB_BITS;
        int sub = (i - SUB) % SUB;
        return ((long) (SUB + sub)) << (e - SUB_BITS);
    }

    /** How many values bucket {@code i} holds. */
    static long width(int i) {
        if (i < SUB) {
            return 1;
        }
        return 1L << ((i - SUB) / SUB);
    }

    /** A copy of the cumulative bucket counts. */
    long[] snapshot() {
        long[] out = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            out[i] = counts.get(i);
        }
        return out;
    }

    /** The sum of every recorded value. */
    long sum() {
        return sum.sum();
    }

    /** Closes the current interval: what was recorded since the last boundary becomes the interval. */
    synchronized void flushInterval() {
        long[] now = snapshot();
        long[] iv = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            iv[i] = now[i] - lastBoundary[i];
        }
        interval = iv;
        lastBoundary = now;
    }

    /** The bucket counts of the last closed interval. */
    synchronized long[] intervalCounts() {
        return interval.clone();
    }

    static long total(long[] c) {
        long n = 0;
        for (long x : c) {
            n += x;
        }
        return n;
    }

    /**
     * The {@code q} quantile (0..1) of the bucket counts {@code c}, interpolated inside the bucket; NaN when
     * {@code c} holds no value.
     */
    static double quantile(long[] c, long total, double q) {
        if (total == 0) {
            return Double.NaN;
        }
        double rank = q * total;
        long cum = 0;
        int last = -1;
        for (int i = 0; i < c.length; i++) {
            if (c[i] == 0) {
                continue;
            }
            last = i;
            if (cum + c[i] >= rank) {
                double frac = c[i] == 0 ? 0 : Math.max(0, rank - cum) / c[i];
                return lowerBound(i) + (width(i) - 1) * frac;
            }
            cum += c[i];
        }
        return lowerBound(last) + width(last) - 1;
    }

    /** How many values of {@code c} are at most {@code le}, approximated linearly inside a straddling bucket. */
    static long countAtMost(long[] c, double le) {
        long n = 0;
        long limit = (long) Math.floor(le);
        for (int i = 0; i < c.length; i++) {
            if (c[i] == 0) {
                continue;
            }
            long lo = lowerBound(i);
            if (lo > limit) {
                break;
            }
            long hi = lo + width(i) - 1;
            if (hi <= limit) {
                n += c[i];
            } else {
                n += c[i] * (limit - lo + 1) / width(i);
            }
        }
        return n;
    }
}
