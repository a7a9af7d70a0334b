package dev.legate.filters.http.grpc.bridge;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.extensions.filters.http.grpc_http1_bridge.v3.Config;

/**
 * The bound {@code envoy.extensions.filters.http.grpc_http1_bridge.v3.Config}; immutable, shared by every event
 * loop.
 *
 * @param upgradeProtobufToGrpc {@code upgrade_protobuf_to_grpc}: frame {@code application/x-protobuf} requests as
 *                              gRPC and unframe their responses
 * @param ignoreQueryParameters {@code ignore_query_parameters}: drop {@code ?...} from a bridged request's
 *                              {@code :path}
 */
public record GrpcHttp1BridgeSettings(boolean upgradeProtobufToGrpc, boolean ignoreQueryParameters) {

    /** Both fields of {@code config}; every value is valid. */
    public static GrpcHttp1BridgeSettings from(Config config) {
        requireNonNull(config, "config");
        return new GrpcHttp1BridgeSettings(config.getUpgradeProtobufToGrpc(), config.getIgnoreQueryParameters());
    }
}
