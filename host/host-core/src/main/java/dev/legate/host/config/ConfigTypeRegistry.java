package dev.legate.host.config;

import com.google.protobuf.TypeRegistry;
import dev.legate.api.config.ConfigType;
import dev.legate.host.plugin.FilterRegistry;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/**
 * The protobuf {@link TypeRegistry} that resolves {@code @type} URLs in a config: the bootstrap and what it
 * depends on, Envoy's untyped wrappers ({@code xds.type.v3.TypedStruct}, {@code udpa.type.v1.TypedStruct}),
 * the access loggers, the upstream HTTP protocol options, the three filters of the default distribution (known
 * even when their plugin is absent, so that the error says "no plugin provides filter X" rather than "unknown
 * type"), and every protobuf config type the loaded factories declare.
 */
public final class ConfigTypeRegistry {

    private ConfigTypeRegistry() {
    }

    /** Builds the registry for the factories in {@code filters}. Takes a few hundred ms; call once per load. */
    public static TypeRegistry build(FilterRegistry filters) {
        TypeRegistry.Builder b = TypeRegistry.newBuilder()
                .add(Bootstrap.getDescriptor())
                .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
                .add(com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor())
                .add(FileAccessLog.getDescriptor())
                .add(StdoutAccessLog.getDescriptor())
                .add(StderrAccessLog.getDescriptor())
                .add(HttpProtocolOptions.getDescriptor())
                .add(HttpConnectionManager.getDescriptor())
                .add(Router.getDescriptor())
                .add(TcpProxy.getDescriptor());
        for (ConfigType<?> type : filters.configTypes()) {
            if (type.isProto()) {
                b.add(type.defaultInstance().getDescriptorForType());
            }
        }
        return b.build();
    }
}
