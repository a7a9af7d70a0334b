/** Stats under Envoy's names and their text, JSON and Prometheus renderings. */
package dev.legate.host.stats;
