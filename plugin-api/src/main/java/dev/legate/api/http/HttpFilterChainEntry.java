package dev.legate.api.http;

import static java.util.Objects.requireNonNull;

/**
 * One bound entry of an {@code http_filters} list: the configured name (the key of
 * {@code typed_per_filter_config}) and the installer its factory returned.
 *
 * @param name      the {@code name} in {@code http_filters}
 * @param installer makes the filter per stream
 * @param terminal  whether the factory declared itself terminal (the router)
 */
public record HttpFilterChainEntry(String name, HttpFilterInstaller installer, boolean terminal) {
    public HttpFilterChainEntry {
        requireNonNull(name, "name");
        requireNonNull(installer, "installer");
    }
}
