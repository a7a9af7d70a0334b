package dev.legate.filters.http.grpc.bridge;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.grpc_http1_bridge.v3.Config;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.grpc_http1_bridge}
 * ({@code type.googleapis.com/envoy.extensions.filters.http.grpc_http1_bridge.v3.Config}; Envoy's
 * source/extensions/filters/http/grpc_http1_bridge/config.cc). No per-route config. Stateless.
 */
@Extension
public final class GrpcHttp1BridgeFilterFactory implements HttpFilterFactory<Config> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "envoy.filters.http.grpc_http1_bridge";

    private static final ConfigType<Config> CONFIG_TYPE = ConfigType.proto(Config.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<Config> configType() {
        return CONFIG_TYPE;
    }

    /** Binds the config once per listener, on the main thread; every field is supported, none can be wrong. */
    @Override
    public HttpFilterInstaller create(Config config, FactoryContext context) {
        GrpcHttp1BridgeSettings settings = GrpcHttp1BridgeSettings.from(config);
        return callbacks -> new GrpcHttp1BridgeFilter(settings, callbacks);
    }
}
