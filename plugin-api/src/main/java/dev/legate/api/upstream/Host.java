package dev.legate.api.upstream;

import java.net.InetSocketAddress;

/** One upstream endpoint of a cluster (Envoy's {@code Upstream::Host}). Immutable; stats are thread-safe. */
public interface Host {

    InetSocketAddress address();

    /** {@code ip:port}, as Envoy prints it in {@code %UPSTREAM_HOST%} and {@code /clusters}. */
    String addressString();

    /** The endpoint's {@code hostname}, or the DNS name it was resolved from, or {@code ""}. */
    String hostname();

    /** {@code load_balancing_weight}, ≥ 1. */
    int weight();

    /** Requests in flight to this host, across workers (for LEAST_REQUEST). */
    long activeRequests();
}
