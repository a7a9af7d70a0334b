package dev.legate.filters.network.httpconnectionmanager.route;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The bound {@code typed_per_filter_config} entries a route sees, by filter name: those of its own level
 * (weighted cluster, route) over those of the levels around it (virtual host, route configuration). Immutable;
 * shared by every event loop.
 *
 * <p>{@link #mostSpecific} is what Envoy's {@code mostSpecificPerFilterConfig} returns; {@link #all} is what its
 * {@code traversePerFilterConfig} visits, most specific first.
 */
final class FilterConfigs {

    /** No per-filter config at any level. */
    static final FilterConfigs NONE = new FilterConfigs(Map.of(), Map.of());

    private final Map<String, Object> mostSpecific;
    private final Map<String, List<Object>> all;

    private FilterConfigs(Map<String, Object> mostSpecific, Map<String, List<Object>> all) {
        this.mostSpecific = mostSpecific;
        this.all = all;
    }

    /** These configs with {@code own} (one level's bound entries) put in front. */
    FilterConfigs over(Map<String, Object> own) {
        if (own.isEmpty()) {
            return this;
        }
        Map<String, Object> top = new HashMap<>(mostSpecific);
        top.putAll(own);
        Map<String, List<Object>> levels = new HashMap<>(all);
        own.forEach((name, config) -> {
            List<Object> list = new ArrayList<>();
            list.add(config);
            list.addAll(all.getOrDefault(name, List.of()));
            levels.put(name, List.copyOf(list));
        });
        return new FilterConfigs(Map.copyOf(top), Map.copyOf(levels));
    }

    /** The most specific config for {@code filterName}, or {@code null}. */
    Object mostSpecific(String filterName) {
        return mostSpecific.get(filterName);
    }

    /** Every level's config for {@code filterName}, most specific first; empty when none. */
    List<Object> all(String filterName) {
        return all.getOrDefault(filterName, List.of());
    }
}
