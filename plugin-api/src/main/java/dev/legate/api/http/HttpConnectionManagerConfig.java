package dev.legate.api.http;

import dev.legate.api.StreamInfo;
import dev.legate.api.stats.Stats;
import java.util.List;
import java.util.Map;

/**
 * What the HTTP connection manager plugin hands the host's HTTP service: the compiled HCM settings, the
 * filter chain, and the HCM's policy hooks (routing, header sanitation, access logging). The host owns the
 * codec and the stream state machine; the plugin owns everything Envoy's HCM config says. Immutable and
 * shared across event loops; hooks are called on the stream's loop.
 */
public interface HttpConnectionManagerConfig {

    /** {@code http.<stat_prefix>.}: the host counts {@code downstream_cx_*} and {@code downstream_rq_*} here. */
    Stats stats();

    CodecType codecType();

    /** {@code max_request_headers_kb} × 1024; 60 KiB by default. Beyond it: 431. */
    int maxRequestHeadersBytes();

    /** {@code common_http_protocol_options.max_headers_count}, 100 by default. Beyond it: 431. */
    int maxHeadersCount();

    /** {@code stream_idle_timeout} in ms (5 min default; 0 disables). */
    long streamIdleTimeoutMillis();

    /** {@code request_timeout} in ms (0 = disabled). */
    long requestTimeoutMillis();

    /** {@code common_http_protocol_options.idle_timeout} in ms for a connection with no stream (1 h; 0 disables). */
    long connectionIdleTimeoutMillis();

    /** {@code proxy_100_continue}: forward {@code expect: 100-continue} instead of answering 100 here. */
    boolean proxy100Continue();

    /** The {@code http_filters}, in order, the terminal one last. */
    List<HttpFilterChainEntry> filterChain();

    /** Looks up the route for a request; {@code null} when nothing matched (the router answers 404). */
    Route route(HeaderMap requestHeaders, StreamInfo streamInfo);

    /**
     * Sanitizes and completes request headers before any filter runs (Envoy's
     * {@code mutateRequestHeaders}): {@code x-forwarded-for}, {@code x-forwarded-proto}, {@code x-request-id},
     * internal {@code x-envoy-*} headers.
     */
    void mutateRequestHeaders(HeaderMap requestHeaders, StreamInfo streamInfo);

    /**
     * Completes response headers after the encoder filters (Envoy's {@code mutateResponseHeaders}):
     * {@code server}, {@code date}, {@code x-request-id} when asked.
     *
     * @param requestHeaders the request's headers, or {@code null} when the request was malformed
     */
    void mutateResponseHeaders(HeaderMap responseHeaders, HeaderMap requestHeaders, StreamInfo streamInfo);

    /**
     * The stream ended: write access logs and stream-level stats. Headers may be {@code null} when never
     * received or sent.
     */
    void onStreamComplete(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                          StreamInfo streamInfo);

    /**
     * The HCM's {@code drain_timeout} in ms (Envoy's default 5000): how long an HTTP/2 connection that is closing
     * (GOAWAY sent) lets its active streams finish before it closes.
     */
    default long drainTimeoutMillis() {
        return 5000;
    }

    /** The HCM's {@code http2_protocol_options}, with Envoy's defaults for unset fields. */
    default Http2Options http2Options() {
        return Http2Options.DEFAULTS;
    }

    /**
     * The HCM's {@code upgrade_configs}: upgrade type, lower case ({@code websocket}, or {@code connect} for
     * CONNECT), to {@code enabled}. A type not listed is refused with 403, as in Envoy.
     */
    default Map<String, Boolean> upgradeConfigs() {
        return Map.of();
    }
}
