/**
 * Envoy's gRPC HTTP filters: {@code envoy.filters.http.grpc_http1_bridge}, {@code envoy.filters.http.grpc_web}
 * and {@code envoy.filters.http.grpc_stats}, as one PF4J plugin built only against the plugin API.
 */
package dev.legate.filters.http.grpc;
