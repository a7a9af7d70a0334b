package dev.legate.filters.http.cors;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.cors} ({@code type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors},
 * no fields) and its per-route config {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}, given in
 * {@code typed_per_filter_config["envoy.filters.http.cors"]} of a route, virtual host, route configuration or
 * weighted cluster (Envoy's {@code source/extensions/filters/http/cors/config.cc}). Stateless; {@link #create}
 * builds a {@link CorsSettings} and returns an installer that makes one {@link CorsFilter} per stream.
 */
@Extension
public final class CorsFilterFactory implements HttpFilterFactory<Cors> {

    /** The filter name in {@code http_filters}, and the key of its {@code typed_per_filter_config} entries. */
    public static final String NAME = "envoy.filters.http.cors";

    private static final ConfigType<Cors> CONFIG_TYPE = ConfigType.proto(Cors.getDefaultInstance());
    private static final ConfigType<CorsPolicy> PER_ROUTE_CONFIG_TYPE = ConfigType.proto(CorsPolicy.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<Cors> configType() {
        return CONFIG_TYPE;
    }

    /** {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}. */
    @Override
    public ConfigType<CorsPolicy> perRouteConfigType() {
        return PER_ROUTE_CONFIG_TYPE;
    }

    /**
     * Binds the (empty) filter config once per listener, on the main thread.
     *
     * @param context the HCM's context: {@code stats()} is {@code http.<stat_prefix>.}, under which the filter
     *                counts {@code cors.origin_valid} and {@code cors.origin_invalid}
     */
    @Override
    public HttpFilterInstaller create(Cors config, FactoryContext context) {
        CorsSettings settings = CorsSettings.from(config, context);
        return callbacks -> new CorsFilter(settings, callbacks);
    }
}
