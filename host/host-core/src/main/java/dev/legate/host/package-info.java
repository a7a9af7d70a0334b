/**
 * The Legate server: {@link dev.legate.host.Server} loads plugins and an Envoy v3 bootstrap, builds clusters and
 * listeners, binds them and the admin listener, and shuts all of it down again.
 */
package dev.legate.host;
