/**
 * {@code envoy.filters.http.cors}: answers CORS preflights and adds CORS headers to responses, with the policy
 * ({@code CorsPolicy}) given per route, virtual host or route configuration (Envoy's
 * {@code source/extensions/filters/http/cors/cors_filter.cc}).
 *
 * <p>Files follow the house roles: {@link dev.legate.filters.http.cors.CorsFilterFactory} (registration, binds
 * {@code envoy.extensions.filters.http.cors.v3.Cors} and declares {@code CorsPolicy} as the per-route type),
 * {@link dev.legate.filters.http.cors.CorsSettings} (compiled policies, immutable and shared by every event loop),
 * {@link dev.legate.filters.http.cors.CorsFilter} (per stream, the data path) and
 * {@link dev.legate.filters.http.cors.CorsStats} ({@code http.<stat_prefix>.cors.*}).
 */
package dev.legate.filters.http.cors;
