package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One engine state per event loop (Envoy's per-worker {@code lua_State}), keyed by the stream's
 * {@link Dispatcher} (dispatchers of the same loop are equal). A state is made on first use, on that loop, and
 * then only used by that loop and its script carriers. Thread-safe lookup; lock-free once made.
 *
 * @param <S> the engine's per-worker state
 */
public final class WorkerStates<S> {

    private final ConcurrentHashMap<Dispatcher, S> states = new ConcurrentHashMap<>();
    private final Function<Dispatcher, S> factory;

    /** @param factory makes the state for a loop; called on that loop, at most once per loop */
    public WorkerStates(Function<Dispatcher, S> factory) {
        this.factory = requireNonNull(factory, "factory");
    }

    /** This loop's state, made on first use. */
    public S get(Dispatcher dispatcher) {
        S s = states.get(dispatcher);
        return s != null ? s : states.computeIfAbsent(dispatcher, factory);
    }

    /** Number of loops with a state (for tests and admin). */
    public int size() {
        return states.size();
    }

    /** Calls {@code action} with each state made so far. */
    public void forEach(Consumer<S> action) {
        states.values().forEach(action);
    }
}
