package dev.legate.filters.http.router;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.router} ({@code type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}),
 * the terminal HTTP filter: it must be the last entry of {@code http_filters}. Stateless; {@link #create} binds the
 * config into a {@link RouterSettings} and returns an installer that makes one {@link RouterFilter} per stream.
 */
@Extension
public final class RouterFilterFactory implements HttpFilterFactory<Router> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "envoy.filters.http.router";

    private static final ConfigType<Router> CONFIG_TYPE = ConfigType.proto(Router.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<Router> configType() {
        return CONFIG_TYPE;
    }

    @Override
    public boolean isTerminal() {
        return true;
    }

    /**
     * Binds the router config once per listener, on the main thread.
     *
     * @param context the HCM's context: {@code stats()} is {@code http.<stat_prefix>.}
     * @throws dev.legate.api.ConfigException naming a field Legate cannot run yet
     *                                        ({@code upstream_http_filters}, {@code upstream_log_options}, a bad
     *                                        {@code strict_check_headers} entry, a bad {@code upstream_log})
     */
    @Override
    public HttpFilterInstaller create(Router config, FactoryContext context) {
        RouterSettings settings = RouterSettings.from(config, context);
        return callbacks -> new RouterFilter(settings, callbacks);
    }
}
