package dev.legate.host.accesslog;

import dev.legate.api.http.HeaderMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/** A small list-backed {@link HeaderMap} for tests (lower-cased names, insertion order). */
final class TestHeaderMap implements HeaderMap {
    private final List<Map.Entry<String, String>> entries = new ArrayList<>();

    static TestHeaderMap of(String... nameValues) {
        TestHeaderMap h = new TestHeaderMap();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
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
        entries.forEach(e -> {
            if (e.getKey().equals(k)) {
                out.add(e.getValue());
            }
        });
        return out;
    }

    @Override
    public boolean contains(CharSequence name) {
        return get(name) != null;
    }

    @Override
    public HeaderMap add(CharSequence name, String value) {
        entries.add(Map.entry(key(name), value));
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
        entries.forEach(e -> action.accept(e.getKey(), e.getValue()));
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
}
