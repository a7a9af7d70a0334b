package dev.legate.filters.http.javascript;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.filters.http.scripting.CompiledScript;
import dev.legate.filters.http.scripting.ReloadableScript;
import java.util.IdentityHashMap;
import java.util.Map;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event loop's JavaScript states for one filter config (Envoy's per-worker {@code lua_State}s): a
 * {@link Context} per script and version, made on first use on that loop, in which the script's top level ran
 * once, so module-scope variables live as long as the version serves on this loop.
 *
 * <p>A stream keeps the {@link State} it started on ({@link State#retain()}/{@link State#release()}); when a
 * watched file brings a new version, new streams get a new state and the old one is closed once its last stream
 * ends. Confined to the event loop, except {@link #closeAll()} (run on the loop through its dispatcher).
 */
final class JsWorker {

    private static final Logger log = LoggerFactory.getLogger(JsWorker.class);

    /** Helpers evaluated in every context: promises made and watched from Java. */
    private static final Source HELPERS = Source.newBuilder(JsRuntime.JS, """
            ({
              deferred() {
                let resolve, reject;
                const promise = new Promise((a, b) => { resolve = a; reject = b; });
                return [promise, resolve, reject];
              },
              resolved(value) { return Promise.resolve(value); },
              chunks(next) {
                return {
                  [Symbol.asyncIterator]() {
                    return { next: () => next().then(c => c === null ? { done: true, value: undefined } : { done: false, value: c }) };
                  }
                };
              },
              watch(p, ok, err) {
                if (p !== null && (typeof p === 'object' || typeof p === 'function') && typeof p.then === 'function') {
                  p.then(ok, err);
                  return true;
                }
                return false;
              }
            })
            """, "legate-helpers.js").cached(true).buildLiteral();

    private final JsRuntime runtime;
    private final Dispatcher dispatcher;
    private final long callTimeoutNanos;
    private final long maxAllocatedBytes;
    private final Map<ReloadableScript<Source>, State> current = new IdentityHashMap<>();
    private boolean closed;

    JsWorker(JsRuntime runtime, long callTimeoutNanos, long maxAllocatedBytes, Dispatcher dispatcher) {
        this.runtime = requireNonNull(runtime, "runtime");
        this.dispatcher = requireNonNull(dispatcher, "dispatcher");
        this.callTimeoutNanos = callTimeoutNanos;
        this.maxAllocatedBytes = maxAllocatedBytes;
    }

    /** The event loop this worker's contexts belong to. */
    Dispatcher dispatcher() {
        return dispatcher;
    }

    /**
     * The state of {@code script}'s current version on this loop, made (and the script's top level run) on first
     * use; retained for the caller, who must {@link State#release()} it.
     *
     * @throws JsScriptException when the top level throws or runs past the call bound
     */
    State acquire(ReloadableScript<Source> script) {
        if (closed) {
            throw new IllegalStateException("filter config closed");
        }
        CompiledScript<Source> version = script.current();
        State s = current.get(script);
        if (s == null || s.version != version) {
            State fresh = new State(version);
            if (s != null) {
                s.retire();
            }
            current.put(script, fresh);
            s = fresh;
        }
        s.retain();
        return s;
    }

    /** Closes every state (the listener closed); states with streams in flight close when those end. */
    void closeAll() {
        closed = true;
        for (State s : current.values()) {
            s.retire();
        }
        current.clear();
    }

    /** A context with one script version evaluated in it. */
    final class State {
        final CompiledScript<Source> version;
        final Context context;
        final JsRuntime.Watch watch;
        /** {@code envoy_on_request} / {@code envoy_on_response}, or {@code null} when the script lacks one. */
        final Value onRequest;
        final Value onResponse;
        private final Value deferred;
        private final Value resolved;
        private final Value chunks;
        private final Value watchPromise;
        private int refs;
        private boolean retired;
        private boolean closedState;

        private State(CompiledScript<Source> version) {
            this.version = version;
            this.context = runtime.newContext();
            this.watch = runtime.watch(context, callTimeoutNanos, maxAllocatedBytes);
            try {
                Value helpers = context.eval(HELPERS);
                deferred = helpers.getMember("deferred");
                resolved = helpers.getMember("resolved");
                chunks = helpers.getMember("chunks");
                watchPromise = helpers.getMember("watch");
                boolean entered = watch.enter();
                try {
                    context.eval(version.program());
                } finally {
                    if (entered) {
                        watch.exit();
                    }
                }
                Value bindings = context.getBindings(JsRuntime.JS);
                onRequest = function(bindings, "envoy_on_request");
                onResponse = function(bindings, "envoy_on_response");
                if (onRequest == null && onResponse == null) {
                    log.info("script {}: defines neither envoy_on_request nor envoy_on_response",
                            version.source().name());
                }
            } catch (PolyglotException e) {
                Throwable error = JsScriptException.of(e, watch);
                closeNow();
                throw error instanceof RuntimeException r ? r : new JsScriptException(error.getMessage());
            } catch (RuntimeException e) {
                closeNow();
                throw e;
            }
        }

        private static Value function(Value bindings, String name) {
            Value f = bindings.getMember(name);
            return f != null && f.canExecute() ? f : null;
        }

        /** A new pending promise: {@code [promise, resolve, reject]}. */
        Value deferred() {
            return deferred.execute();
        }

        /** {@code Promise.resolve(value)}. */
        Value resolved(Object value) {
            return resolved.execute(value);
        }

        /** An async iterable whose {@code next()} calls {@code next} (a function returning a Promise of a chunk or null). */
        Value chunks(Object next) {
            return chunks.execute(next);
        }

        /** If {@code result} is a thenable, calls {@code ok}/{@code err} when it settles and answers true. */
        boolean watchPromise(Value result, Object ok, Object err) {
            return watchPromise.execute(result, ok, err).asBoolean();
        }

        void retain() {
            refs++;
        }

        /** A stream is done with this state; the last one closes a retired state. */
        void release() {
            if (--refs <= 0 && retired) {
                closeNow();
            }
        }

        private void retire() {
            retired = true;
            if (refs <= 0) {
                closeNow();
            }
        }

        private void closeNow() {
            if (closedState) {
                return;
            }
            closedState = true;
            watch.close();
            try {
                context.close(true);
            } catch (RuntimeException e) {
                log.debug("closing a JavaScript context: {}", e.toString());
            }
        }
    }
}
