package dev.legate.api.stats;

/** A monotonically increasing count (Envoy counter). Thread-safe and lock-free; cheap enough for the data path. */
public interface Counter {
    void inc();

    void add(long amount);

    long value();
}
