/**
 * {@code envoy.filters.network.http_connection_manager}: binds Envoy's {@code HttpConnectionManager} config
 * into {@link dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerSettings} (the compiled,
 * immutable settings, the HTTP filter chain, the route table and the HCM's header policy) and hands it to
 * the host's HTTP service, which owns the codec and the stream state machine (DESIGN §2).
 */
package dev.legate.filters.network.httpconnectionmanager;
