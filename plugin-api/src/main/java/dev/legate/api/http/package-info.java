/**
 * HTTP filters (Envoy's decoder/encoder filters), their callbacks, routes and the host's HTTP service.
 * "Decode" is the request (in {@code http_filters} order), "encode" the response (reverse order).
 */
package dev.legate.api.http;
