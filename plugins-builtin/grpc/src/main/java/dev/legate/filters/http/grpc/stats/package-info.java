/**
 * {@code envoy.filters.http.grpc_stats}: per-method gRPC counters on the route's cluster, message counts, the
 * upstream request time, and a filter state object with the message counts (Envoy's
 * source/extensions/filters/http/grpc_stats/grpc_stats_filter.cc).
 *
 * <p>Files: {@link dev.legate.filters.http.grpc.stats.GrpcStatsFilterFactory} (registration, binds
 * {@code envoy.extensions.filters.http.grpc_stats.v3.FilterConfig}),
 * {@link dev.legate.filters.http.grpc.stats.GrpcStatsSettings} (compiled: the method allowlist, flags) and
 * {@link dev.legate.filters.http.grpc.stats.GrpcStatsFilter} (per stream). The counters are the shared
 * {@link dev.legate.filters.http.grpc.GrpcClusterStats} ({@code cluster.<name>.grpc.*}); message counting is the
 * shared {@link dev.legate.filters.http.grpc.GrpcFrameDecoder}.
 */
package dev.legate.filters.http.grpc.stats;
