/**
 * The host's HTTP/1.1 codec and stream state machine (Envoy's {@code source/common/http}:
 * {@code conn_manager_impl} + {@code filter_manager}), offered to the HTTP connection manager plugin through
 * {@link dev.legate.host.http.HttpConnectionServiceImpl}. Everything here runs on the connection's event loop.
 */
package dev.legate.host.http;
