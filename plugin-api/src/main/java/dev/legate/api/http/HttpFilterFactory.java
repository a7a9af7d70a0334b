package dev.legate.api.http;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import org.pf4j.ExtensionPoint;

/**
 * An HTTP filter a plugin provides, found by PF4J as an {@code @Extension} and selected by the {@code name}
 * in an HTTP connection manager's {@code http_filters} (Envoy's {@code NamedHttpFilterConfigFactory}).
 * Stateless; the lifecycle is create (bind + validate) → install per stream → close with the listener.
 *
 * @param <C> the filter's config type
 */
public interface HttpFilterFactory<C> extends ExtensionPoint {

    /** The filter name, e.g. {@code envoy.filters.http.router}. Unique in the process. */
    String name();

    /** The {@code typed_config} this filter takes. */
    ConfigType<C> configType();

    /**
     * The per-route config type accepted in {@code typed_per_filter_config} under this filter's name, or
     * {@code null} when the filter has none. Filters read it with {@link HttpFilterCallbacks#perRouteConfig}.
     */
    default ConfigType<?> perRouteConfigType() {
        return null;
    }

    /**
     * Compiles one {@code typed_per_filter_config} entry after the host has bound it to
     * {@link #perRouteConfigType()} (Envoy's {@code createRouteSpecificFilterConfig}): once per entry, when the
     * route table is built, on the main thread. What it returns is what the filter later gets from
     * {@link HttpFilterCallbacks#perRouteConfig} and {@link Route#perFilterConfig}, shared by every event loop,
     * so it must be immutable. The default returns {@code config} as bound.
     *
     * @param config  the bound per-route config, never {@code null}
     * @param context the listener's factory context
     * @throws dev.legate.api.ConfigException naming the field of {@code config} that cannot be run; the host
     *         puts the entry's path in front (any other {@code RuntimeException} becomes a config error at the
     *         entry's path, with the exception as its cause)
     */
    default Object createRouteSpecificConfig(Object config, FactoryContext context) {
        return config;
    }

    /** Whether this filter ends the chain (the router): it must be last, and only it may be last. */
    default boolean isTerminal() {
        return false;
    }

    /**
     * Binds a config, once per listener, on the main thread.
     *
     * @throws dev.legate.api.ConfigException naming the field of {@code config} that cannot be run
     */
    HttpFilterInstaller create(C config, FactoryContext context);
}
