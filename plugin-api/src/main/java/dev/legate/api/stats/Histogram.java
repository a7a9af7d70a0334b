package dev.legate.api.stats;

/** A distribution of values (Envoy histogram); Envoy's time histograms are in milliseconds. Thread-safe. */
public interface Histogram {
    void record(long value);
}
