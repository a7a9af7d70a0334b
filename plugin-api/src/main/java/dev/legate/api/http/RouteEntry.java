package dev.legate.api.http;

import dev.legate.api.StreamInfo;
import java.util.Map;

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

    /**
     * {@code max_grpc_timeout} (deprecated) or {@code max_stream_duration.grpc_timeout_header_max}, in
     * milliseconds: the cap on a gRPC request's {@code grpc-timeout}. {@code -1} when neither is set (the
     * {@code grpc-timeout} header is then ignored, as in Envoy); {@code 0} means no cap.
     */
    default long maxGrpcTimeoutMillis() {
        return -1;
    }

    /**
     * {@code grpc_timeout_offset} (deprecated) or {@code max_stream_duration.grpc_timeout_header_offset}, in
     * milliseconds, subtracted from the effective {@code grpc-timeout} when it is larger; 0 by default.
     */
    default long grpcTimeoutOffsetMillis() {
        return 0;
    }

    /**
     * The route's {@code upgrade_configs}: upgrade type (lower case, e.g. {@code websocket}, {@code CONNECT})
     * to {@code enabled}. A type missing here falls back to the HTTP connection manager's
     * {@code upgrade_configs} (Envoy's {@code RouteEntry::upgradeMap}).
     */
    default Map<String, Boolean> upgradeMap() {
        return Map.of();
    }
}
