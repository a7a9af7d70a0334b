/**
 * Envoy's gRPC HTTP filters: {@code envoy.filters.http.grpc_http1_bridge} ({@link dev.legate.filters.http.grpc.bridge}),
 * {@code envoy.filters.http.grpc_web} ({@link dev.legate.filters.http.grpc.web}) and
 * {@code envoy.filters.http.grpc_stats} ({@link dev.legate.filters.http.grpc.stats}), as one PF4J plugin built only
 * against the plugin API.
 *
 * <p>This package holds what the three share, once: {@link dev.legate.filters.http.grpc.GrpcFrameDecoder} (the
 * 5-byte length-prefixed message framing of gRPC over HTTP/2, parsed across chunk boundaries),
 * {@link dev.legate.filters.http.grpc.GrpcSupport} (clearing a header map; Envoy's {@code Grpc::Common} rules of
 * source/common/grpc/common.cc are the SPI's {@link dev.legate.api.http.GrpcCommon}) and
 * {@link dev.legate.filters.http.grpc.GrpcClusterStats} (the per-cluster, per-method counters of Envoy's
 * {@code Grpc::ContextImpl}, source/common/grpc/context_impl.cc).
 */
package dev.legate.filters.http.grpc;
