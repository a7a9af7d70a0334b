package dev.legate.api.matcher;

import dev.legate.api.http.HeaderMap;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The smallest {@link HeaderMap} for the matcher tests (plugin-api cannot use the host's test kit, which depends on
 * it): a list of lower-cased entries.
 */
final class ListHeaderMap implements HeaderMap {

    private final List<Map.Entry<String, String>> entries = new ArrayList<>();

    /** A map holding {@code nameValues} (name, value, name, value...). */
    static ListHeaderMap of(String... nameValues) {
        ListHeaderMap h = new ListHeaderMap();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    @Override
    public String get(CharSequence name) {
        List<String> all = getAll(name);
        return all.isEmpty() ? null : all.get(0);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        String n = name.toString().toLowerCase(Locale.ROOT);
        List<String> values = new ArrayList<>();
        for (Map.Entry<String, String> e : entries) {
            if (e.getKey().equals(n)) {
                values.add(e.getValue());
            }
        }
        return values;
    }

    @Override
    public boolean contains(CharSequence name) {
        return !getAll(name).isEmpty();
    }

    @Override
    public HeaderMap add(CharSequence name, String value) {
        entries.add(new SimpleImmutableEntry<>(name.toString().toLowerCase(Locale.ROOT), value));
        return this;
    }

    @Override
    public HeaderMap set(CharSequence name, String value) {
        remove(name);
        return add(name, value);
    }

    @Override
    public boolean remove(CharSequence name) {
        String n = name.toString().toLowerCase(Locale.ROOT);
        return entries.removeIf(e -> e.getKey().equals(n));
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
