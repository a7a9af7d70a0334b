package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.HeaderMap;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A plain {@link HeaderMap} for tests: names lower-cased, several values per name kept in the order added,
 * pseudo-headers ({@code :method}, {@code :status}, ...) iterated first, as the SPI requires.
 *
 * <p>Not thread-safe (like every header map, it is confined to one stream). Not tuned for speed: a list
 * scanned per lookup.
 *
 * <pre>{@code
 * HeaderMap request = TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "example.com");
 * }</pre>
 */
public final class TestHeaderMap implements HeaderMap {

    private final List<Map.Entry<String, String>> entries = new ArrayList<>();
    /** Number of pseudo-header entries, all at the front of {@link #entries}. */
    private int pseudoCount;

    /** An empty map. */
    public TestHeaderMap() {
    }

    /**
     * A map of name/value pairs, added in order.
     *
     * @param namesAndValues {@code name1, value1, name2, value2, ...}
     * @throws IllegalArgumentException when the count is odd
     */
    public static TestHeaderMap of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException(
                    "namesAndValues: " + namesAndValues.length + " strings (expected: name/value pairs)");
        }
        TestHeaderMap map = new TestHeaderMap();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    /**
     * A {@code GET} request's pseudo-headers: {@code :method GET}, {@code :path path},
     * {@code :authority authority}. Add more with {@link #add}.
     */
    public static TestHeaderMap request(String authority, String path) {
        return of(HeaderMap.METHOD, "GET", HeaderMap.PATH, path, HeaderMap.AUTHORITY, authority);
    }

    /** A copy of any header map, for keeping what a filter saw. */
    public static TestHeaderMap copyOf(HeaderMap headers) {
        TestHeaderMap map = new TestHeaderMap();
        headers.forEach(map::add);
        return map;
    }

    private static String lower(CharSequence name) {
        return requireNonNull(name, "name").toString().toLowerCase(Locale.ROOT);
    }

    @Override
    public String get(CharSequence name) {
        String n = lower(name);
        for (Map.Entry<String, String> e : entries) {
            if (e.getKey().equals(n)) {
                return e.getValue();
            }
        }
        return null;
    }

    @Override
    public List<String> getAll(CharSequence name) {
        String n = lower(name);
        List<String> out = new ArrayList<>(2);
        for (Map.Entry<String, String> e : entries) {
            if (e.getKey().equals(n)) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    @Override
    public boolean contains(CharSequence name) {
        return get(name) != null;
    }

    @Override
    public TestHeaderMap add(CharSequence name, String value) {
        String n = lower(name);
        requireNonNull(value, "value");
        Map.Entry<String, String> e = new AbstractMap.SimpleImmutableEntry<>(n, value);
        if (n.startsWith(":")) {
            entries.add(pseudoCount++, e);
        } else {
            entries.add(e);
        }
        return this;
    }

    @Override
    public TestHeaderMap set(CharSequence name, String value) {
        remove(name);
        return add(name, value);
    }

    @Override
    public boolean remove(CharSequence name) {
        String n = lower(name);
        boolean removed = false;
        for (Iterator<Map.Entry<String, String>> it = entries.iterator(); it.hasNext(); ) {
            if (it.next().getKey().equals(n)) {
                it.remove();
                removed = true;
                if (n.startsWith(":")) {
                    pseudoCount--;
                }
            }
        }
        return removed;
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public void forEach(BiConsumer<String, String> action) {
        for (Map.Entry<String, String> e : entries) {
            action.accept(e.getKey(), e.getValue());
        }
    }

    @Override
    public long byteSize() {
        long n = 0;
        for (Map.Entry<String, String> e : entries) {
            n += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        return n;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return Collections.unmodifiableList(entries).iterator();
    }

    /** {@code name: value} lines, for assertion messages. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, String> e : entries) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append(": ").append(e.getValue());
        }
        return sb.append('}').toString();
    }
}
