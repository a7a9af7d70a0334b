/**
 * {@code envoy.filters.http.grpc_http1_bridge}: lets an HTTP/1.1 client call a gRPC service (Envoy's
 * source/extensions/filters/http/grpc_http1_bridge/http1_bridge_filter.cc). For an HTTP/1.x request with a gRPC
 * content type the response is held until its trailers, whose {@code grpc-status} and {@code grpc-message} become
 * response headers ({@code :status} 503 for a non-zero status); {@code upgrade_protobuf_to_grpc} frames an
 * {@code application/x-protobuf} body as one gRPC message and unframes the answer; {@code ignore_query_parameters}
 * drops the query from {@code :path}.
 *
 * <p>Files: {@link dev.legate.filters.http.grpc.bridge.GrpcHttp1BridgeFilterFactory} (registration, binds
 * {@code envoy.extensions.filters.http.grpc_http1_bridge.v3.Config}),
 * {@link dev.legate.filters.http.grpc.bridge.GrpcHttp1BridgeSettings} (the two flags) and
 * {@link dev.legate.filters.http.grpc.bridge.GrpcHttp1BridgeFilter} (per stream). Envoy's current filter has no
 * stats, and neither has this one.
 */
package dev.legate.filters.http.grpc.bridge;
