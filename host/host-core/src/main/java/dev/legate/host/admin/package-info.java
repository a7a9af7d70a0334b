/**
 * Envoy's admin interface ({@code /ready}, {@code /stats}, {@code /clusters}, {@code /config_dump}, ...) on its
 * own single-thread event loop, never on a worker.
 */
package dev.legate.host.admin;
