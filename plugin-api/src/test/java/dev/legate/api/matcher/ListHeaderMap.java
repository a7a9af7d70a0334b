package dev.legate.api.matcher;

import dev.legate.api.http.HeaderMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The smallest {@link HeaderMap} the matcher tests need (plugin-api cannot use the host's test kit, which depends
 * on it): the matchers read {@link #getAll} only, so it is the one method implemented; the rest throw.
 */
final class ListHeaderMap implements HeaderMap {

    private final Map<String, List<String>> values = new LinkedHashMap<>();

    /** A map holding {@code nameValues} (name, value, name, value...); names are lower-cased. */
    static ListHeaderMap of(String... nameValues) {
        ListHeaderMap h = new ListHeaderMap();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    @Override
    public List<String> getAll(CharSequence name) {
        return values.getOrDefault(name.toString(), List.of());
    }

    @Override
    public HeaderMap add(CharSequence name, String value) {
        values.computeIfAbsent(name.toString().toLowerCase(Locale.ROOT), n -> new ArrayList<>()).add(value);
        return this;
    }

    @Override
    public String get(CharSequence name) {
        throw new UnsupportedOperationException("not read by the matchers");
    }

    @Override
    public boolean contains(CharSequence name) {
        throw new UnsupportedOperationException("not read by the matchers");
    }

    @Override
    public HeaderMap set(CharSequence name, String value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean remove(CharSequence name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public int size() {
        throw new UnsupportedOperationException();
    }

    @Override
    public void forEach(BiConsumer<String, String> action) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long byteSize() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        throw new UnsupportedOperationException();
    }
}
