package dev.legate.filters.network.httpconnectionmanager;

import dev.legate.api.http.HeaderMap;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/** A small {@link HeaderMap} for tests: entries in order, names lower-cased, pseudo-headers first. */
public final class TestHeaderMap implements HeaderMap {

    private final List<Map.Entry<String, String>> entries = new ArrayList<>();

    /** {@code of(":path", "/", "host", "a")}. */
    public static TestHeaderMap of(String... namesAndValues) {
        TestHeaderMap h = new TestHeaderMap();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            h.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return h;
    }

    /** A GET request for {@code authority} and {@code path}. */
    public static TestHeaderMap request(String authority, String path) {
        return of(":method", "GET", ":path", path, ":authority", authority);
    }

    private static String key(CharSequence name) {
        return name.toString().toLowerCase(Locale.ROOT);
    }

    @Override
    public String get(CharSequence name) {
        String k = key(name);
        for (Map.Entry<String, String> e : entries) {
            if (e.getKey().equals(k)) {
                return e.getValue();
            }
        }
        return null;
    }

    @Override
    public List<String> getAll(CharSequence name) {
        String k = key(name);
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : entries) {
            if (e.getKey().equals(k)) {
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
    public HeaderMap add(CharSequence name, String value) {
        String k = key(name);
        if (k.startsWith(":")) {
            int i = 0;
            while (i < entries.size() && entries.get(i).getKey().startsWith(":")) {
                i++;
            }
            entries.add(i, new AbstractMap.SimpleEntry<>(k, value));
        } else {
            entries.add(new AbstractMap.SimpleEntry<>(k, value));
        }
        return this;
    }

    @Override
    public HeaderMap set(CharSequence name, String value) {
        remove(name);
        return add(name, value);
    }

    @Override
    public boolean remove(CharSequence name) {
        String k = key(name);
        return entries.removeIf(e -> e.getKey().equals(k));
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
            n += e.getKey().length() + e.getValue().length();
        }
        return n;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return entries.iterator();
    }

    @Override
    public String toString() {
        return entries.toString();
    }
}
