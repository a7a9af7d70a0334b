package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Runs one script call that may wait on a virtual thread, with a strict hand-off: exactly one of the event loop
 * and the script runs at any time, as with a coroutine.
 *
 * <h2>Why (and why not LuaJ's coroutines)</h2>
 * A script that calls {@code body()} before the body is there must stop in the middle of its code and go on later
 * on the same event loop. LuaJ's coroutines run each coroutine on its own platform thread (one per stream), so
 * Legate does not use them for this. Most scripts never wait: they run directly on the event loop (about 1 µs).
 * Only a call that may wait runs here: the event loop {@linkplain #resume() resumes} the carrier and parks until
 * the script either ends or {@linkplain #suspend() suspends}; then the event loop goes on serving other
 * connections, and resumes the carrier when the awaited data arrives. The event loop never waits for I/O or
 * timers: it is parked only while script code runs (bounded by {@link ScriptLimits}), exactly as if it ran the
 * script itself.
 *
 * <p>Memory visibility: every hand-off is a write and a read of one volatile field, so whatever one side wrote
 * before handing over is seen by the other. Stream state (header maps, buffers) may therefore be read and
 * written by the script thread while the event loop is parked; calls into the host that may re-enter the filter
 * chain (respond, continue, starting an HTTP call) are run on the event loop through {@link #callOnLoop}.
 *
 * <p>Cost: a virtual thread and two hand-offs (unpark/park, a few µs) per wait; no platform thread per stream.
 */
public final class ScriptCarrier {

    private static final int LOOP = 0;
    private static final int SCRIPT = 1;
    private static final ThreadLocal<ScriptCarrier> CURRENT = new ThreadLocal<>();

    private final Thread thread;
    private volatile int turn = LOOP;
    private Thread loop;
    private boolean started;
    private boolean finished;
    private boolean cancelled;
    private boolean resuming;
    private Throwable failure;
    private Supplier<?> loopCall;
    private Object loopResult;
    private Throwable loopError;

    /**
     * @param name   the virtual thread's name (for thread dumps)
     * @param script the script call; what it throws is kept as {@link #failure()}
     */
    public ScriptCarrier(String name, Runnable script) {
        requireNonNull(script, "script");
        thread = Thread.ofVirtual().name(requireNonNull(name, "name")).unstarted(() -> {
            CURRENT.set(this);
            try {
                awaitTurn();
                if (!cancelled) {
                    script.run();
                }
            } catch (ScriptCancelled e) {
                // the stream went away while the script waited
            } catch (Throwable t) {
                failure = t;
            } finally {
                finished = true;
                handBack();
            }
        });
    }

    /** The carrier whose script runs on the current thread, or {@code null} on an event loop. */
    public static ScriptCarrier current() {
        return CURRENT.get();
    }

    // Event-loop side

    /**
     * Starts or resumes the script and parks the calling event loop until the script suspends or ends; runs the
     * script's {@link #callOnLoop} requests meanwhile, on the event loop.
     *
     * @return whether the script ended (then see {@link #failure()})
     */
    public boolean resume() {
        if (finished) {
            return true;
        }
        if (resuming) {
            throw new IllegalStateException("resume() while the carrier is already resumed");
        }
        resuming = true;
        try {
            loop = Thread.currentThread();
            while (true) {
                turn = SCRIPT;
                if (!started) {
                    started = true;
                    thread.start();
                } else {
                    LockSupport.unpark(thread);
                }
                while (turn != LOOP) {
                    LockSupport.park(this);
                }
                Supplier<?> call = loopCall;
                if (call == null) {
                    return finished;
                }
                loopCall = null;
                try {
                    loopResult = call.get();
                } catch (Throwable t) {
                    loopError = t;
                }
            }
        } finally {
            resuming = false;
        }
    }

    /**
     * The stream is gone: the suspended script is unwound ({@link #suspend()} throws) and its thread ends. Safe to
     * call from inside a {@link #callOnLoop} request (the stream may end there): the script then goes on until it
     * ends or next suspends, where it is unwound.
     */
    public void cancel() {
        if (finished) {
            return;
        }
        cancelled = true;
        if (resuming) {
            // Called from a callOnLoop request (the stream ended inside it): the script goes on after that call
            // and is unwound at its next suspend(); the resume() in progress returns when it ends.
            return;
        }
        if (started) {
            resume();
        } else {
            finished = true;
        }
    }

    /** Whether the script ended. */
    public boolean isFinished() {
        return finished;
    }

    /** What the script threw, or {@code null}. */
    public Throwable failure() {
        return failure;
    }

    // Script side

    /**
     * Hands control back to the event loop and parks until {@link #resume()}. Call on the carrier's thread only.
     *
     * @throws ScriptCancelled when the stream went away meanwhile
     */
    public void suspend() {
        checkScriptThread();
        if (cancelled) {
            throw new ScriptCancelled();
        }
        handBack();
        awaitTurn();
        if (cancelled) {
            throw new ScriptCancelled();
        }
    }

    /**
     * Runs {@code call} on the event loop (which is parked in {@link #resume()}) and returns its result; the script
     * goes on right after. Call on the carrier's thread only.
     */
    @SuppressWarnings("unchecked")
    public <T> T callOnLoop(Supplier<T> call) {
        checkScriptThread();
        loopCall = requireNonNull(call, "call");
        handBack();
        awaitTurn();
        Object r = loopResult;
        Throwable e = loopError;
        loopResult = null;
        loopError = null;
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
        return (T) r;
    }

    private void checkScriptThread() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("not on the script carrier's thread");
        }
    }

    private void handBack() {
        turn = LOOP;
        LockSupport.unpark(loop);
    }

    private void awaitTurn() {
        while (turn != SCRIPT) {
            LockSupport.park(this);
        }
    }

    /** Unwinds a suspended script whose stream went away; an {@link Error} so that script code cannot catch it. */
    public static final class ScriptCancelled extends Error {
        private static final long serialVersionUID = 1L;

        ScriptCancelled() {
            super("stream ended while the script waited", null, false, false);
        }
    }
}
