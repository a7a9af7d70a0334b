package dev.legate.api;

/** Something pending that can be called off, such as a request for an upstream connection. */
@FunctionalInterface
public interface Cancellable {
    /** Calls it off; no callback follows. Idempotent; a no-op once the callback ran. */
    void cancel();
}
