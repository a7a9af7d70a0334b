/**
 * The compiled route table of the HTTP connection manager's inline {@code route_config}: virtual hosts by
 * domain, routes by match, and the {@link dev.legate.api.http.Route}, {@link dev.legate.api.http.RouteEntry}
 * and {@link dev.legate.api.http.DirectResponseEntry} objects the router reads (Envoy's
 * {@code source/common/router/config_impl.cc}). Everything here is compiled once per listener, immutable and
 * shared by every event loop; only a weighted or header-chosen cluster is resolved per request.
 */
package dev.legate.filters.network.httpconnectionmanager.route;
