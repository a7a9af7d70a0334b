/**
 * {@code envoy.filters.http.router}: the terminal HTTP filter that forwards a routed request to a cluster
 * (Envoy's {@code source/common/router/router.cc}), with Envoy's timeouts, retries, circuit breaking, local
 * replies, response flags and stats.
 *
 * <p>Files follow the house roles: {@link dev.legate.filters.http.router.RouterFilterFactory} (registration,
 * binds {@code envoy.extensions.filters.http.router.v3.Router}), {@link dev.legate.filters.http.router.RouterSettings}
 * (compiled, immutable, shared by every event loop), {@link dev.legate.filters.http.router.RouterFilter}
 * (per stream, the data path), and the helpers {@code RouterStats} and {@code RetryState}.
 */
package dev.legate.filters.http.router;
