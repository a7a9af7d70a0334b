package dev.legate.filters.http.javascript;

import dev.legate.api.http.HeaderMap;
import dev.legate.filters.http.scripting.ScriptUsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.Value;

/**
 * The header object of the JavaScript handle ({@code handle.headers()}, the resolved {@code handle.trailers()}),
 * Envoy's Lua header object with JavaScript call syntax: {@code get}, {@code getAtIndex}, {@code getNumValues},
 * {@code add}, {@code replace}, {@code remove}, and {@code forEach((name, value) => ...)} in place of
 * {@code pairs()}. Values given as numbers or booleans are converted to strings. Changing request or response
 * headers after they were passed on is an error ({@code header map can no longer be modified}). Valid while its
 * call runs; confined to the stream's event loop.
 */
public final class JsHeaders {

    private final JsInvocation call;
    private final boolean trailers;

    JsHeaders(JsInvocation call, boolean trailers) {
        this.call = call;
        this.trailers = trailers;
    }

    private HeaderMap map() {
        if (!call.active()) {
            throw new ScriptUsageException("the handle is no longer valid: its script call ended");
        }
        HeaderMap m = trailers ? call.stream.trailers(call.direction) : call.stream.headers(call.direction);
        if (m == null) {
            throw new ScriptUsageException(trailers ? "no trailers" : "no headers");
        }
        return m;
    }

    private HeaderMap mutableMap() {
        HeaderMap m = map();
        if (!trailers) {
            call.stream.checkHeadersMutable(call.direction);
        }
        return m;
    }

    /** All values of {@code name} joined with {@code ,}, or {@code null} when absent (Envoy's {@code get}). */
    @HostAccess.Export
    public String get(String name) {
        List<String> all = map().getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }

    /** The {@code index}-th (0-based) value of {@code name}, or {@code null}. */
    @HostAccess.Export
    public String getAtIndex(String name, int index) {
        List<String> all = map().getAll(name);
        return index >= 0 && index < all.size() ? all.get(index) : null;
    }

    /** How many values {@code name} has. */
    @HostAccess.Export
    public int getNumValues(String name) {
        return map().getAll(name).size();
    }

    /** Adds a value (keeps existing ones). */
    @HostAccess.Export
    public void add(String name, Value value) {
        mutableMap().add(name, JsHandle.string(value));
    }

    /** Sets {@code name} to one value (adds it when absent). */
    @HostAccess.Export
    public void replace(String name, Value value) {
        mutableMap().set(name, JsHandle.string(value));
    }

    /** Removes every value of {@code name}. */
    @HostAccess.Export
    public void remove(String name) {
        mutableMap().remove(name);
    }

    /** Calls {@code fn(name, value)} for each header in order; do not change the map meanwhile. */
    @HostAccess.Export
    public void forEach(Value fn) {
        if (!fn.canExecute()) {
            throw new ScriptUsageException("forEach: expected a function");
        }
        List<Map.Entry<String, String>> copy = new ArrayList<>();
        for (Map.Entry<String, String> e : map()) {
            copy.add(e);
        }
        for (Map.Entry<String, String> e : copy) {
            fn.executeVoid(e.getKey(), e.getValue());
        }
    }

    /** How many header lines there are. */
    @HostAccess.Export
    public int size() {
        return map().size();
    }
}
