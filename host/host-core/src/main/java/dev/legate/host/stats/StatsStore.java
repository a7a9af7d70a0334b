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

/**
 * Every stat of the process under its Envoy name ({@code cluster.backend.upstream_rq_total}), the one source
 * for {@code /stats}, {@code /stats?format=json} and {@code /stats/prometheus}. Counters and gauges are
 * lock-free adders; histograms are Micrometer {@link DistributionSummary}s. Lookups are thread-safe; a name
 * is created once and lives as long as the store.
 */
public final class StatsStore {

    private final MeterRegistry registry;
    private final Map<String, CounterImpl> counters = new ConcurrentHashMap<>();
    private final Map<String, GaugeImpl> gauges = new ConcurrentHashMap<>();
    private final Map<String, HistogramImpl> histograms = new ConcurrentHashMap<>();
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
                    DistributionSummary.builder(k).publishPercentiles(0.5, 0.95, 0.99).register(registry)));
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

    private record HistogramImpl(DistributionSummary summary) implements Histogram {
        @Override public void record(long value) { summary.record(value); }
    }
}
