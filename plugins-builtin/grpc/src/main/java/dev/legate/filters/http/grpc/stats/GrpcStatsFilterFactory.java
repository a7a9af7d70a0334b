package dev.legate.filters.http.grpc.stats;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.grpc_stats}
 * ({@code type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig}; Envoy's
 * source/extensions/filters/http/grpc_stats/config.cc). No per-route config. Stateless.
 */
@Extension
public final class GrpcStatsFilterFactory implements HttpFilterFactory<FilterConfig> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "envoy.filters.http.grpc_stats";

    private static final ConfigType<FilterConfig> CONFIG_TYPE = ConfigType.proto(FilterConfig.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<FilterConfig> configType() {
        return CONFIG_TYPE;
    }

    /**
     * Compiles the config once per listener, on the main thread. The counters go to the route's cluster scope,
     * found per stream, not to {@code context.stats()}.
     *
     * @throws dev.legate.api.ConfigException for an allowlist entry without a name or methods
     */
    @Override
    public HttpFilterInstaller create(FilterConfig config, FactoryContext context) {
        GrpcStatsSettings settings = GrpcStatsSettings.from(config);
        return callbacks -> new GrpcStatsFilter(settings, callbacks);
    }
}
