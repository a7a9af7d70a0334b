/**
 * {@code envoy.filters.http.fault}: injects delays, aborts (HTTP or gRPC status) and response rate limits into
 * HTTP requests, selected by percentage, by request headers ({@code x-envoy-fault-*}) and by route
 * ({@code typed_per_filter_config}), as Envoy's fault filter (source/extensions/filters/http/fault/). Built only on
 * the plugin API: {@link dev.legate.filters.http.fault.FaultFilterFactory} is the PF4J extension.
 */
package dev.legate.filters.http.fault;
