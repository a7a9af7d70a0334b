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
     * {@code max_grpc_timeout} (deprecated in Envoy, still honoured), in milliseconds; {@code -1} when unset.
     * When set and the request is gRPC, the router's global timeout is the request's {@code grpc-timeout}
     * (infinite when absent) less {@link #grpcTimeoutOffsetMillis()}, capped at this value ({@code 0}: no cap),
     * instead of {@link #timeoutMillis()}; the router then rewrites {@code grpc-timeout} upstream (Envoy's
     * {@code FilterUtility::finalTimeout}). Ignored when {@link #maxStreamDuration()} is set.
     */
    default long maxGrpcTimeoutMillis() {
        return -1;
    }

    /**
     * {@code grpc_timeout_offset} (deprecated in Envoy), in milliseconds, subtracted from the request's
     * {@code grpc-timeout} when smaller than it; only with {@link #maxGrpcTimeoutMillis()}. 0 by default.
     */
    default long grpcTimeoutOffsetMillis() {
        return 0;
    }

    /**
     * The route's {@code max_stream_duration}, or {@code null} when unset. When set the route uses Envoy's
     * "new timeouts": {@link #timeoutMillis()} and {@link #maxGrpcTimeoutMillis()} do not apply (the router has
     * no global timeout unless {@code x-envoy-upstream-rq-timeout-ms} asks for one) and the stream is limited to
     * this duration instead (Envoy's {@code ActiveStream::refreshDurationTimeout}).
     */
    default MaxStreamDuration maxStreamDuration() {
        return null;
    }

    /**
     * {@code RouteAction.MaxStreamDuration}, each field in milliseconds or {@code -1} when unset.
     *
     * @param maxStreamDurationMillis      {@code max_stream_duration}: the stream's limit; 0 disables it
     * @param grpcTimeoutHeaderMaxMillis   {@code grpc_timeout_header_max}: when set and the request has a valid
     *                                     {@code grpc-timeout}, the limit is that header capped at this value
     *                                     ({@code 0}: no cap)
     * @param grpcTimeoutHeaderOffsetMillis {@code grpc_timeout_header_offset}: subtracted from that limit (a
     *                                     result of 0 or less times out at once)
     */
    record MaxStreamDuration(long maxStreamDurationMillis, long grpcTimeoutHeaderMaxMillis,
                             long grpcTimeoutHeaderOffsetMillis) {
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
