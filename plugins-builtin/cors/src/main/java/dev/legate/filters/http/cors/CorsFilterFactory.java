package dev.legate.filters.http.cors;

import static java.util.Objects.requireNonNull;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import java.util.concurrent.ThreadLocalRandom;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.cors} ({@code type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors},
 * no fields) and its per-route config {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}, given in
 * {@code typed_per_filter_config["envoy.filters.http.cors"]} of a route, virtual host, route configuration or
 * weighted cluster (Envoy's {@code source/extensions/filters/http/cors/config.cc}). Stateless;
 * {@link #createRouteSpecificConfig} compiles each such entry when the route table is built, {@link #create}
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
     * Compiles one {@code typed_per_filter_config["envoy.filters.http.cors"]} entry, bound to {@code CorsPolicy},
     * into a {@code CorsSettings.Policy} (immutable) when the route table is built (Envoy's
     * {@code createRouteSpecificFilterConfig} → {@code CorsPolicyImpl}); main thread. A {@code runtime_key} is
     * logged as a warning now.
     *
     * @param config the bound {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}
     * @throws dev.legate.api.ConfigException naming the field Legate cannot run (an invalid {@code safe_regex},
     *         an empty {@code prefix}, ...); the host puts the entry's path in front
     */
    @Override
    public Object createRouteSpecificConfig(Object config, FactoryContext context) {
        requireNonNull(config, "config");
        return CorsSettings.Policy.compile((CorsPolicy) config, "", CorsSettings.PER_ROUTE + ".");
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
        // ThreadLocalRandom.current() is taken on the stream's event loop, where the filter runs.
        return callbacks -> new CorsFilter(settings, ThreadLocalRandom.current(), callbacks);
    }
}
