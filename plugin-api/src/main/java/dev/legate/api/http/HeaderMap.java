package dev.legate.api.http;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * One header map for every codec, with HTTP/2's pseudo-headers ({@code :method}, {@code :path},
 * {@code :authority}, {@code :scheme}, {@code :status}) as in Envoy: an HTTP/1.1 request line and
 * {@code Host} arrive as pseudo-headers, and the codec writes them back out.
 *
 * <p>Names are case-insensitive and stored lower-case; a name may hold several values, kept in the order
 * added. Iteration gives pseudo-headers first. Not thread-safe: confined to its stream's event loop.
 */
public interface HeaderMap extends Iterable<Map.Entry<String, String>> {

    String METHOD = ":method";
    String PATH = ":path";
    String AUTHORITY = ":authority";
    String SCHEME = ":scheme";
    String STATUS = ":status";

    /** The first value of {@code name}, or {@code null}. */
    String get(CharSequence name);

    /** Every value of {@code name}, in order; empty when absent. */
    List<String> getAll(CharSequence name);

    boolean contains(CharSequence name);

    /** Appends a value, keeping earlier ones. */
    HeaderMap add(CharSequence name, String value);

    /** Replaces every value of {@code name} with {@code value}. */
    HeaderMap set(CharSequence name, String value);

    /** Removes every value of {@code name}; whether any was there. */
    boolean remove(CharSequence name);

    /** Number of entries, pseudo-headers included. */
    int size();

    /** Calls {@code action} for each entry in iteration order. */
    void forEach(BiConsumer<String, String> action);

    /** The size Envoy counts against {@code max_request_headers_kb}: names plus values, in bytes. */
    long byteSize();

    default String method() {
        return get(METHOD);
    }

    default String path() {
        return get(PATH);
    }

    default String authority() {
        return get(AUTHORITY);
    }

    default String scheme() {
        return get(SCHEME);
    }

    /** {@code :status} as a number, or 0 when absent or not a number. */
    default int status() {
        String s = get(STATUS);
        if (s == null) {
            return 0;
        }
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
