package dev.legate.filters.http.javascript;

import static java.util.Objects.requireNonNull;

import dev.legate.filters.http.scripting.Direction;
import dev.legate.filters.http.scripting.ScriptInvocation;
import dev.legate.filters.http.scripting.ScriptLimitExceeded;
import dev.legate.filters.http.scripting.ScriptResponded;
import dev.legate.filters.http.scripting.ScriptStream;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.proxy.ProxyExecutable;

/**
 * One direction of one stream in JavaScript: {@code envoy_on_request(handle)} or {@code envoy_on_response(handle)},
 * plain or {@code async}. Where Lua suspends a coroutine, JavaScript awaits a promise: {@code handle.body()},
 * {@code handle.trailers()} and {@code handle.httpCall(...)} return a pending promise and register the wait with
 * the {@link ScriptStream}; {@link #run()} then answers {@link Outcome#WAITING}. When the filter runs the call again
 * (the data is there) the promise is resolved from Java on the event loop, and GraalJS runs the microtask queue
 * before the resolve call returns, so the script goes on to its next wait or its end inside that {@code run()}.
 *
 * <p>Every entry into the context ({@code execute}, {@code resolve}) is bounded by the state's
 * {@link JsRuntime.Watch}. Errors: with {@code FAIL_OPEN} the call fails and the filter goes on as if absent;
 * with {@code FAIL_CLOSED} it is counted and logged here and answered with a 500 (details
 * {@code javascript_error}). Confined to the stream's event loop.
 */
final class JsInvocation implements ScriptInvocation {

    /** The response code details of a {@code FAIL_CLOSED} reply. */
    static final String ERROR_DETAILS = "javascript_error";

    private enum Pending { NONE, BODY, CHUNK, TRAILERS, HTTP_CALL }

    private static final int RUNNING = 0;
    private static final int RESOLVED = 1;
    private static final int REJECTED = 2;

    private final JavaScriptSettings settings;
    private final JsWorker.State state;
    private final Value function;
    final ScriptStream stream;
    final Direction direction;
    private final JsHandle handle;
    private final ProxyExecutable onResolved = args -> {
        settled = RESOLVED;
        return null;
    };
    private final ProxyExecutable onRejected = args -> {
        settled = REJECTED;
        rejection = JsScriptException.ofRejection(args.length > 0 ? args[0] : null);
        return null;
    };

    private boolean started;
    private boolean released;
    private int settled = RUNNING;
    private Throwable rejection;
    private Throwable failure;
    private Pending pending = Pending.NONE;
    private Value pendingResolve;
    private boolean alwaysWrapBody;
    /** respond() sent the local response. */
    boolean responded;

    JsInvocation(JavaScriptSettings settings, JsWorker.State state, Value function, ScriptStream stream,
                 Direction direction) {
        this.settings = requireNonNull(settings, "settings");
        this.state = requireNonNull(state, "state");
        this.function = requireNonNull(function, "function");
        this.stream = requireNonNull(stream, "stream");
        this.direction = requireNonNull(direction, "direction");
        this.handle = new JsHandle(this);
    }

    // ScriptInvocation

    @Override
    public Outcome run() {
        if (released) {
            return failure != null ? Outcome.FAILED : Outcome.FINISHED;
        }
        boolean entered = state.watch.enter();
        try {
            if (!started) {
                started = true;
                Value result = function.execute(handle);
                if (!responded && settled == RUNNING && !state.watchPromise(result, onResolved, onRejected)) {
                    settled = RESOLVED;
                }
            } else {
                Pending p = pending;
                Value resolve = pendingResolve;
                pending = Pending.NONE;
                pendingResolve = null;
                if (resolve == null) {
                    return fail(new IllegalStateException("resumed without a pending wait"));
                }
                resolve.executeVoid(valueFor(p));
            }
        } catch (PolyglotException e) {
            Throwable t = JsScriptException.of(e, state.watch);
            if (t instanceof ScriptResponded) {
                return finish();
            }
            return fail(t);
        } catch (ScriptResponded e) {
            return finish();
        } catch (RuntimeException | ScriptLimitExceeded e) {
            return fail(e);
        } finally {
            if (entered) {
                state.watch.exit();
            }
        }
        if (responded) {
            return finish();
        }
        if (settled == RESOLVED) {
            return finish();
        }
        if (settled == REJECTED) {
            return rejection instanceof ScriptResponded ? finish() : fail(rejection);
        }
        if (pending != Pending.NONE) {
            return Outcome.WAITING;
        }
        return fail(new JsScriptException(state.version.source().name() + ": " + entryName()
                + " awaits something other than the handle (only body(), bodyChunks(), trailers() and httpCall() resume a script)"));
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    @Override
    public void cancel() {
        pending = Pending.NONE;
        pendingResolve = null;
        release();
    }

    // What the handle calls

    /** Whether the call still runs (a handle used after its call ended is an error). */
    boolean active() {
        return !released;
    }

    /** The state's helpers (promises). */
    JsWorker.State state() {
        return state;
    }

    /**
     * A promise for the whole body: resolved now when the body is there, else pending until the filter resumes the
     * call. {@code null} body unless {@code alwaysWrap}.
     */
    Value body(boolean alwaysWrap) {
        if (!stream.awaitBody(direction)) {
            return state.resolved(bodyValue(alwaysWrap));
        }
        alwaysWrapBody = alwaysWrap;
        return suspend(Pending.BODY);
    }

    /**
     * The async iterable of {@code bodyChunks()}: each {@code next()} registers a chunk wait; the filter resumes the
     * call with each chunk as it passes (the chunk is valid during that resumption only), then with {@code null}.
     */
    Value bodyChunks() {
        return state.chunks((ProxyExecutable) args -> nextChunk());
    }

    private Value nextChunk() {
        if (!active()) {
            throw new dev.legate.filters.http.scripting.ScriptUsageException(
                    "the handle is no longer valid: its script call ended");
        }
        if (!stream.awaitChunk(direction)) {
            return state.resolved(null);
        }
        return suspend(Pending.CHUNK);
    }

    /** A promise for the trailers (or {@code null}), once the direction ended. */
    Value trailers() {
        if (!stream.awaitTrailers(direction)) {
            return state.resolved(trailersValue());
        }
        return suspend(Pending.TRAILERS);
    }

    /** A promise for the response of the {@code httpCall} that {@link ScriptStream#awaitHttpCall} just started. */
    Value httpCallStarted() {
        return suspend(Pending.HTTP_CALL);
    }

    private Value suspend(Pending what) {
        if (pending != Pending.NONE) {
            throw new dev.legate.filters.http.scripting.ScriptUsageException(
                    "one wait at a time: await body(), trailers() or httpCall() before starting another");
        }
        Value d = state.deferred();
        pending = what;
        pendingResolve = d.getArrayElement(1);
        return d.getArrayElement(0);
    }

    private Object valueFor(Pending p) {
        return switch (p) {
            case BODY -> bodyValue(alwaysWrapBody);
            case CHUNK -> stream.currentChunk(direction) == null ? null : new JsChunk(this);
            case TRAILERS -> trailersValue();
            case HTTP_CALL -> JsHandle.httpResponse(stream.httpCallResult(direction));
            case NONE -> null;
        };
    }

    private Object bodyValue(boolean alwaysWrap) {
        return alwaysWrap || stream.body(direction) != null ? new JsBuffer(this) : null;
    }

    private Object trailersValue() {
        return stream.trailers(direction) == null ? null : new JsHeaders(this, true);
    }

    String entryName() {
        return direction == Direction.REQUEST ? "envoy_on_request" : "envoy_on_response";
    }

    // Ends

    private Outcome finish() {
        release();
        return Outcome.FINISHED;
    }

    private Outcome fail(Throwable error) {
        failure = error;
        release();
        if (settings.failClosed()) {
            settings.failClosedReply(stream, error);
            return Outcome.FINISHED;
        }
        return Outcome.FAILED;
    }

    private void release() {
        if (!released) {
            released = true;
            state.release();
        }
    }
}
