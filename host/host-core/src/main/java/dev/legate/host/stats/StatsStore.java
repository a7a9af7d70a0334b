package dev.legate.host.stats;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * Every stat of the process under its Envoy name ({@code cluster.backend.upstream_rq_total}), the one source
 * for {@code /stats}, {@code /stats?format=json} and {@code /stats/prometheus}. Counters and gauges are
 * lock-free adders; a histogram records into a Micrometer {@link DistributionSummary} (count, sum, max) and
 * into a lock-free log-linear bucket array from which the renderers compute Envoy's quantiles and
 * Prometheus buckets. Lookups are thread-safe; a name is created once and lives as long as the store.
 *
 * <p>Rendering ({@link #renderText}, {@link #renderJson}, {@link #renderPrometheus}) reads live values and is
 * meant for the admin thread: it allocates and sorts, so never call it on a worker's data path. Histogram
 * "interval" values (Envoy: since the last stats flush) are the values recorded between the last two
 * interval boundaries; a boundary is taken when a render finds the previous one older than
 * {@link #FLUSH_INTERVAL_MILLIS} (Envoy's default {@code stats_flush_interval}), or on
 * {@link #flushHistogramIntervals()}.
 */
public final class StatsStore {

    /** Envoy's default {@code stats_flush_interval}: 5 s. */
    public static final long FLUSH_INTERVAL_MILLIS = 5000;

    private final MeterRegistry registry;
    private final Map<String, CounterImpl> counters = new ConcurrentHashMap<>();
    private final Map<String, GaugeImpl> gauges = new ConcurrentHashMap<>();
    private final Map<String, HistogramImpl> histograms = new ConcurrentHashMap<>();
    private volatile long lastFlushNanos = System.nanoTime();
    private final Stats root = new Scope("");

    public StatsStore() {
        this(new SimpleMeterRegistry());
    }

    public StatsStore(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The root scope. */
    public Stats root() {
        return root;
    }

    /** The Micrometer registry the histograms live in. */
    public MeterRegistry registry() {
        return registry;
    }

    /** Counters by full name, sorted. */
    public SortedMap<String, Long> counterValues() {
        SortedMap<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Gauges by full name, sorted. */
    public SortedMap<String, Long> gaugeValues() {
        SortedMap<String, Long> out = new TreeMap<>();
        gauges.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Histograms by full name, sorted. */
    public SortedMap<String, DistributionSummary> histograms() {
        SortedMap<String, DistributionSummary> out = new TreeMap<>();
        histograms.forEach((k, v) -> out.put(k, v.summary));
        return out;
    }

    /**
     * Envoy's {@code /stats} text: one {@code name: value} line per counter and gauge, sorted by name, then one
     * line per histogram, {@code name: P0(interval,cumulative) P25(..) P50 P75 P90 P95 P99 P99.5 P99.9 P100}
     * or {@code name: No recorded values}. Each line ends in {@code \n}.
     *
     * @param filterOrNull keeps only names in which the pattern is found (partial match, like Envoy's
     *                     {@code ?filter=}); {@code null} keeps all
     */
    public String renderText(Pattern filterOrNull) {
        maybeFlushIntervals();
        return StatsRenderer.text(counterValues(), gaugeValues(), histogramRecorders(), filterOrNull);
    }

    /**
     * Envoy's {@code /stats?format=json}: {@code {"stats":[{"name":..,"value":..},...,{"histograms":
     * {"supported_quantiles":[0,25,...,100],"computed_quantiles":[{"name":..,"values":[{"interval":x|null,
     * "cumulative":y|null},...]}]}}]}}; the histograms element is present only when a histogram passes the filter.
     */
    public String renderJson(Pattern filterOrNull) {
        maybeFlushIntervals();
        return StatsRenderer.json(counterValues(), gaugeValues(), histogramRecorders(), filterOrNull);
    }

    /** {@link #renderPrometheus(Pattern)} of every stat. */
    public String renderPrometheus() {
        return renderPrometheus(null);
    }

    /**
     * Prometheus text exposition 0.0.4 as Envoy's {@code /stats/prometheus} writes it: counters, then gauges,
     * then histograms; per family a {@code # TYPE} line, its series sorted by label text, and a blank line.
     * Names are {@code envoy_} + the tag-extracted name with characters outside {@code [a-zA-Z0-9_]} turned
     * into {@code _}; tags come from Envoy's default tag extractors (see {@link TagExtractor}), and labels are
     * printed sorted by name, e.g. {@code envoy_cluster_upstream_rq{envoy_cluster_name="backend",
     * envoy_response_code="503"} 7}. A series without tags prints {@code {}} as Envoy does.
     */
    public String renderPrometheus(Pattern filterOrNull) {
        return StatsRenderer.prometheus(counterValues(), gaugeValues(), histogramRecorders(), filterOrNull);
    }

    /**
     * Starts a new histogram interval now: the values recorded since the previous boundary become the
     * "interval" values that {@link #renderText} and {@link #renderJson} print. Thread-safe; admin-side only.
     */
    public void flushHistogramIntervals() {
        lastFlushNanos = System.nanoTime();
        histograms.values().forEach(h -> h.recorder.flushInterval());
    }

    private void maybeFlushIntervals() {
        if (System.nanoTime() - lastFlushNanos >= FLUSH_INTERVAL_MILLIS * 1_000_000L) {
            flushHistogramIntervals();
        }
    }

    /** The histograms' bucket recorders by full name, sorted. */
    SortedMap<String, HistogramRecorder> histogramRecorders() {
        SortedMap<String, HistogramRecorder> out = new TreeMap<>();
        histograms.forEach((k, v) -> out.put(k, v.recorder));
        return out;
    }

    /** The counter {@code name}'s value, or 0 when it does not exist (for tests and admin). */
    public long counter(String name) {
        CounterImpl c = counters.get(name);
        return c == null ? 0 : c.value();
    }

    /** The gauge {@code name}'s value, or 0 when it does not exist. */
    public long gauge(String name) {
        GaugeImpl g = gauges.get(name);
        return g == null ? 0 : g.value();
    }

    private final class Scope implements Stats {
        private final String prefix;

        Scope(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public String prefix() {
            return prefix;
        }

        @Override
        public Stats scope(String name) {
            return new Scope(prefix + (name.endsWith(".") ? name : name + "."));
        }

        @Override
        public Counter counter(String name) {
            return counters.computeIfAbsent(prefix + name, k -> new CounterImpl());
        }

        @Override
        public Gauge gauge(String name) {
            return gauges.computeIfAbsent(prefix + name, k -> new GaugeImpl());
        }

        @Override
        public Histogram histogram(String name) {
            return histograms.computeIfAbsent(prefix + name, k -> new HistogramImpl(
                    DistributionSummary.builder(k).register(registry), new HistogramRecorder()));
        }
    }

    private static final class CounterImpl implements Counter {
        private final LongAdder adder = new LongAdder();

        @Override public void inc() { adder.increment(); }
        @Override public void add(long amount) { adder.add(amount); }
        @Override public long value() { return adder.sum(); }
    }

    private static final class GaugeImpl implements Gauge {
        private final AtomicLong value = new AtomicLong();

        @Override public void inc() { value.incrementAndGet(); }
        @Override public void dec() { value.decrementAndGet(); }
        @Override public void add(long delta) { value.addAndGet(delta); }
        @Override public void set(long v) { value.set(v); }
        @Override public long value() { return value.get(); }
    }

    private record HistogramImpl(DistributionSummary summary, HistogramRecorder recorder) implements Histogram {
        @Override
        public void record(long value) {
            summary.record(value);
            recorder.record(value);
        }
    }
}
