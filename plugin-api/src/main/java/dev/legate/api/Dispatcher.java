package dev.legate.api;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The event loop that owns a connection and every stream on it (Envoy's {@code Event::Dispatcher}).
 *
 * <p>Work that completes elsewhere (a timer, another connection, a script engine) re-enters the filter
 * through {@link #execute(Runnable)}. Methods may be called from any thread; the tasks run on the loop.
 */
public interface Dispatcher extends Executor {

    /** Runs {@code task} on this loop, after the current task; never inline. */
    @Override
    void execute(Runnable task);

    /**
     * Runs {@code task} on this loop after {@code delay}. A pending timer keeps no connection alive: a
     * filter cancels its timers in {@code onDestroy}.
     *
     * @return a handle whose {@link Timer#cancel()} stops the task if it has not run yet
     */
    Timer schedule(Runnable task, long delay, TimeUnit unit);

    /** Whether the caller runs on this loop. Filters may assert it; the host does in tests. */
    boolean inEventLoop();

    /** Milliseconds since the epoch, from the loop's clock ({@code System.currentTimeMillis()} today). */
    default long currentTimeMillis() {
        return System.currentTimeMillis();
    }

    /** A scheduled task. */
    interface Timer {
        /** Cancels the task if it has not started; idempotent. */
        void cancel();
    }
}
