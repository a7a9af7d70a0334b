package dev.legate.api.network;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import org.pf4j.ExtensionPoint;

/**
 * A network filter a plugin provides, found by PF4J as an {@code @Extension} and selected by the
 * {@code name} in a listener's {@code filter_chains[].filters[]} (and checked against the config's
 * {@code @type}). Stateless: nothing mutable lives here (Envoy's {@code NamedNetworkFilterConfigFactory}).
 *
 * @param <C> the config type
 */
public interface NetworkFilterFactory<C> extends ExtensionPoint {

    /** The filter name, e.g. {@code envoy.filters.network.tcp_proxy}. Unique in the process. */
    String name();

    /** The {@code typed_config} this filter takes. */
    ConfigType<C> configType();

    /** Whether this filter must be, and may only be, the last of its chain. */
    default boolean isTerminal() {
        return false;
    }

    /**
     * Binds a config, once per listener (and per config reload), on the main thread.
     *
     * @throws dev.legate.api.ConfigException naming the field of {@code config} that cannot be run
     */
    NetworkFilterInstaller create(C config, FactoryContext context);
}
