/**
 * Clusters, hosts and per-event-loop connection pools (Envoy's cluster manager), as filters use them.
 */
package dev.legate.api.upstream;
