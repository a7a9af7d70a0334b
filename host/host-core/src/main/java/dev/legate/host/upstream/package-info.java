/**
 * The cluster manager (Envoy's {@code source/common/upstream}): clusters of one config snapshot with their
 * hosts ({@code STATIC}, {@code STRICT_DNS}, {@code LOGICAL_DNS}), load balancers ({@code ROUND_ROBIN},
 * {@code LEAST_REQUEST}, {@code RANDOM}), circuit breakers, and per-event-loop HTTP/1.1, HTTP/2 and TCP
 * connection pools (Envoy's {@code source/common/conn_pool}, {@code source/common/http/http1/conn_pool.cc} and
 * {@code source/common/http/http2/conn_pool.cc}).
 *
 * <p>Threading: host sets are immutable snapshots behind a volatile reference, replaced by the DNS thread;
 * load balancing and circuit breakers are lock-free and callable from any thread; every pool is confined
 * to the event loop it was created on.
 */
package dev.legate.host.upstream;
