package dev.legate.api.stats;

/** A value that goes up and down (Envoy gauge), such as active connections. Thread-safe and lock-free. */
public interface Gauge {
    void inc();

    void dec();

    void add(long delta);

    void set(long value);

    long value();
}
