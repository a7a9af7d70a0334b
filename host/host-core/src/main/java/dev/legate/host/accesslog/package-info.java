/**
 * Envoy's access loggers ({@code envoy.access_loggers.stdout}, {@code .stderr}, {@code .file}) with Envoy's
 * substitution format strings and access-log filters. Formatting runs on the event loop that ends the stream;
 * writing runs on one background thread per process ({@link dev.legate.host.accesslog.AccessLogWriter}).
 */
package dev.legate.host.accesslog;
