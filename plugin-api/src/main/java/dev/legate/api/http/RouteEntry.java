package dev.legate.api.http;

import dev.legate.api.StreamInfo;

/**
 * A route that forwards upstream, compiled from Envoy's {@code RouteAction} (Envoy's {@code RouteEntry}).
 * The router filter reads it; the HTTP connection manager builds it.
 */
public interface RouteEntry {

    /**
     * The target cluster for this request ({@code cluster}, the weighted pick of {@code weighted_clusters},
     * or the value of {@code cluster_header}); {@code null} when the header is absent.
     */
    String clusterName();

    /** {@code cluster_not_found_response_code}: 503 (default), 404 or 500. */
    int clusterNotFoundResponseCode();

    /** {@code timeout} in milliseconds; 15000 by default; 0 disables it. */
    long timeoutMillis();

    /** {@code idle_timeout} in milliseconds, or -1 when unset (the HCM's stream idle timeout applies). */
    long idleTimeoutMillis();

    /** The retry policy of the route (or of its virtual host), or {@link RetryPolicy#NONE}. */
    RetryPolicy retryPolicy();

    /** {@code auto_host_rewrite}: set {@code :authority} to the chosen upstream host. */
    boolean autoHostRewrite();

    /**
     * Rewrites the request for upstream (Envoy's {@code finalizeRequestHeaders}): {@code prefix_rewrite} or
     * {@code regex_rewrite} of {@code :path} (the original kept in {@code x-envoy-original-path}),
     * {@code host_rewrite_literal}, then {@code request_headers_to_remove}/{@code request_headers_to_add}
     * of the route, virtual host and route configuration, most specific last.
     */
    void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo);

    /** Applies {@code response_headers_to_remove}/{@code response_headers_to_add} at all three levels. */
    void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo);
}
