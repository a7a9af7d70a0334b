package dev.legate.filters.http.grpc.web;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.grpc_web} ({@code type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb},
 * no fields; Envoy's source/extensions/filters/http/grpc_web/config.cc). No per-route config. Stateless.
 */
@Extension
public final class GrpcWebFilterFactory implements HttpFilterFactory<GrpcWeb> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "envoy.filters.http.grpc_web";

    private static final ConfigType<GrpcWeb> CONFIG_TYPE = ConfigType.proto(GrpcWeb.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<GrpcWeb> configType() {
        return CONFIG_TYPE;
    }

    /** Binds the (empty) config once per listener, on the main thread. */
    @Override
    public HttpFilterInstaller create(GrpcWeb config, FactoryContext context) {
        return GrpcWebFilter::new;
    }
}
