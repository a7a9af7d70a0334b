package dev.legate.filters.http.lua;

import dev.legate.filters.http.scripting.Direction;
import dev.legate.filters.http.scripting.ScriptCarrier;
import dev.legate.filters.http.scripting.ScriptInvocation;
import dev.legate.filters.http.scripting.ScriptLimitExceeded;
import dev.legate.filters.http.scripting.ScriptResponded;
import dev.legate.filters.http.scripting.ScriptStream;
import java.util.function.BooleanSupplier;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaValue;

/**
 * One run of {@code envoy_on_request}/{@code envoy_on_response} for one stream.
 *
 * <p>Two ways to run, chosen when the call is made:
 * <ul>
 *   <li><b>Direct</b> (the common case): the script cannot wait in this call (it names no {@code httpCall}, and
 *       no {@code body}/{@code bodyChunks}/{@code trailers}, or the direction has no body), so it runs straight on
 *       the event loop thread: no thread, no hand-off (~1 µs for a header transform).</li>
 *   <li><b>Carrier</b>: the script may wait, so it runs on a {@link ScriptCarrier} (a virtual thread with a strict
 *       hand-off); a handle method that must wait registers the wait with {@link ScriptStream} and suspends, and
 *       the event loop goes on with other work until the filter resumes the call.</li>
 * </ul>
 * LuaJ's own coroutines are not used for this: each would be a platform thread.
 *
 * <p>The per-call budget ({@link LuaBudgetHook}) starts afresh for each start or resume.
 */
final class LuaCall implements ScriptInvocation {

    private final LuaState state;
    private final LuaValue entry;
    private final LuaHandles.Handle handle;
    private final LuaValue handleValue;
    private final boolean suspendable;
    private ScriptCarrier carrier;
    /** The event loop thread of a direct call. */
    private Thread directThread;
    /** Set when a handle method was called from another thread (a coroutine): the call fails even if caught. */
    private volatile String offThreadUse;
    private Throwable failure;

    LuaCall(LuaState state, LuaValue entry, ScriptStream stream, Direction direction, boolean suspendable,
            boolean clearRouteCache) {
        this.state = state;
        this.entry = entry;
        this.suspendable = suspendable;
        this.handle = new LuaHandles.Handle(this, stream, direction, clearRouteCache);
        this.handleValue = state.handles.streamHandle(handle);
    }

    /** Whether the call runs on a carrier (for tests). */
    boolean suspendable() {
        return suspendable;
    }

    // ScriptInvocation

    @Override
    public Outcome run() {
        LuaBudgetHook hook = state.hook;
        if (!suspendable) {
            directThread = Thread.currentThread();
            hook.begin();
            try {
                entry.call(handleValue);
                return finish(null);
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (Throwable t) {
                return finish(t);
            } finally {
                hook.end();
            }
        }
        if (carrier == null) {
            carrier = new ScriptCarrier(state.nextCarrierName(), () -> entry.call(handleValue));
        }
        boolean done;
        hook.begin();
        try {
            done = carrier.resume();
        } finally {
            hook.end();
        }
        if (!done) {
            return Outcome.WAITING;
        }
        Throwable t = carrier.failure();
        if (t instanceof OutOfMemoryError oom) {
            throw oom;
        }
        return finish(t);
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public void cancel() {
        handle.valid = false;
        if (carrier != null) {
            carrier.cancel();
        }
    }

    // For the handle methods

    /**
     * Refuses a handle method called from any thread but the one running this call (the event loop for a direct
     * call, the carrier's virtual thread otherwise): LuaJ runs each coroutine on a platform thread of its own, and
     * host calls from there would run off the event loop. The call then ends as a script error even when the
     * script catches the error ({@code coroutine.resume}, {@code pcall}).
     *
     * @throws LuaError naming the problem
     */
    void checkThread() {
        boolean ok = carrier != null ? ScriptCarrier.current() == carrier : Thread.currentThread() == directThread;
        if (!ok) {
            String message = "the stream handle cannot be used from a coroutine (it runs on another thread)";
            offThreadUse = message;
            throw new LuaError(message);
        }
    }

    /**
     * Registers a wait with {@code register} and, when it must wait, suspends the script until the filter resumes
     * it.
     *
     * @param what for the error when this call cannot wait, e.g. {@code body()}
     */
    void await(BooleanSupplier register, String what) {
        awaitIf(register, what);
    }

    /** Like {@link #await}; whether it waited ({@code register} said there was something to wait for). */
    boolean awaitIf(BooleanSupplier register, String what) {
        if (carrier == null || ScriptCarrier.current() != carrier) {
            // A direct call: it can only go on when nothing needs waiting for.
            if (!register.getAsBoolean()) {
                return false;
            }
            throw new LuaError(what + " cannot wait in this call (the script names it only dynamically)");
        }
        if (!register.getAsBoolean()) {
            return false;
        }
        carrier.suspend();
        return true;
    }

    private Outcome finish(Throwable t) {
        handle.valid = false;
        String offThread = offThreadUse;
        if (offThread != null && !(t instanceof ScriptLimitExceeded)) {
            failure = new LuaScriptError(state.name + ": " + offThread, null);
            return Outcome.FAILED;
        }
        if (t == null || t instanceof ScriptResponded) {
            return Outcome.FINISHED;
        }
        if (t instanceof LuaError le) {
            failure = new LuaScriptError(LuaState.message(le), le);
        } else if (t instanceof ScriptLimitExceeded le) {
            failure = new ScriptLimitExceeded(state.name + ": " + le.getMessage());
        } else if (t instanceof StackOverflowError) {
            failure = new LuaScriptError(state.name + ": stack overflow", t);
        } else {
            failure = new LuaScriptError(state.name + ": " + t, t);
        }
        return Outcome.FAILED;
    }

    /** A Lua runtime error, with Lua's message ({@code <script>:<line>: <message>}). */
    static final class LuaScriptError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LuaScriptError(String message, Throwable cause) {
            super(message, cause, false, false);
        }
    }
}
