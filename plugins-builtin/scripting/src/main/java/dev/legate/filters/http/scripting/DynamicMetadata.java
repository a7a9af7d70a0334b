package dev.legate.filters.http.scripting;

import dev.legate.api.StateKey;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A stream's dynamic metadata as scripts see it ({@code streamInfo():dynamicMetadata()}): namespaces (e.g.
 * {@code envoy.filters.http.lua}) of key → value, where a value is a {@code String}, {@code Double},
 * {@code Long}, {@code Boolean}, a {@code List} or a {@code Map} of those. Kept in the stream's filter state under
 * {@link #KEY}, shared by the script filters of one stream. Confined to the stream's event loop.
 */
public final class DynamicMetadata {

    /** Where a stream's dynamic metadata is kept. */
    public static final StateKey<DynamicMetadata> KEY =
            StateKey.of("legate.filters.http.scripting.dynamic_metadata", DynamicMetadata.class);

    private final Map<String, Map<String, Object>> namespaces = new LinkedHashMap<>();

    /** The namespace's entries (a live, mutable view), or {@code null} when it has none. */
    public Map<String, Object> get(String namespace) {
        return namespaces.get(namespace);
    }

    /** Sets {@code key} in {@code namespace} to {@code value}. */
    public void set(String namespace, String key, Object value) {
        namespaces.computeIfAbsent(namespace, n -> new LinkedHashMap<>()).put(key, value);
    }

    /** Every namespace, in the order first set (a live view). */
    public Map<String, Map<String, Object>> namespaces() {
        return namespaces;
    }
}
