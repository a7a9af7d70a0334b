package dev.legate.host.admin;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * One loaded plugin, as {@code /plugins} shows it.
 *
 * @param id      the PF4J plugin id, e.g. {@code legate-router}
 * @param version the plugin's version
 * @param state   the PF4J state, e.g. {@code STARTED}
 * @param filters the filter names its extensions provide, e.g. {@code envoy.filters.http.router}
 */
public record PluginInfo(String id, String version, String state, List<String> filters) {
    public PluginInfo {
        requireNonNull(id, "id");
        requireNonNull(version, "version");
        requireNonNull(state, "state");
        filters = List.copyOf(filters);
    }
}
