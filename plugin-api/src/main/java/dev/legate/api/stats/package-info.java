/** Stats under Envoy's names, backed by Micrometer in the host. */
package dev.legate.api.stats;
