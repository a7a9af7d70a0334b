package dev.legate.api.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.StreamInfo;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/**
 * What the host's stream state machine gives one HTTP filter for one stream (Envoy's
 * {@code StreamDecoderFilterCallbacks} and {@code StreamEncoderFilterCallbacks} together). Every method must
 * be called on {@link #dispatcher()}; async completions re-enter through {@link Dispatcher#execute}.
 */
public interface HttpFilterCallbacks {

    // Stream

    /** The stream's event loop, for timers and for re-entering after async work. */
    Dispatcher dispatcher();

    /** What the host records about this stream (flags, upstream host, filter state); valid until {@code onDestroy}. */
    StreamInfo streamInfo();

    /** The downstream connection's id, for logs. */
    long connectionId();

    /**
     * The request headers of this stream (after earlier filters' changes); {@code null} before they arrive.
     * Valid until {@code onDestroy}; do not keep the map past it.
     */
    HeaderMap requestHeaders();

    /**
     * The route for the current request headers, looked up once and cached; {@code null} when no virtual
     * host or route matched.
     */
    Route route();

    /** Drops the cached route, so that the next {@link #route()} looks it up again (after a header change). */
    void clearRouteCache();

    /**
     * This filter's per-route config: for the most specific {@code typed_per_filter_config} entry under this
     * filter's name (route, then virtual host, then route configuration), what the factory's
     * {@link HttpFilterFactory#createRouteSpecificConfig} returned for it when the route table was built (by
     * default the entry bound to {@link HttpFilterFactory#perRouteConfigType()}); {@code null} when none applies.
     *
     * @param type the class of what {@code createRouteSpecificConfig} returns
     */
    <R> R perRouteConfig(Class<R> type);

    /** The clusters of the current config snapshot, with this worker's connection pools. */
    ClusterManager clusterManager();

    /** A new, empty header map (for a response or a trailer this filter makes). */
    HeaderMap newHeaderMap();

    /** The stream's buffer limit in bytes ({@code per_connection_buffer_limit_bytes}, default 1 MiB). */
    int bufferLimit();

    // Decoding (request path)

    /** Resumes the request path after this filter returned a STOP status; held data and trailers follow. */
    void continueDecoding();

    /**
     * The request body this filter's STOP_*_AND_BUFFER status made the host keep, or {@code null}. Borrowed:
     * the filter may modify it in place; the host passes it on when decoding continues.
     */
    ByteBuf decodingBuffer();

    /**
     * Adds data to the request: from {@code decodeHeaders}/{@code decodeTrailers} it is buffered and passed
     * on with the stream; otherwise passed to the next filter now.
     *
     * @param data transferred: the host releases it
     */
    void addDecodedData(ByteBuf data);

    /**
     * Answers the request locally (Envoy's {@code sendLocalReply}): {@code :status} = {@code status},
     * {@code content-type: text/plain} and the body when non-empty. A gRPC request (Envoy's
     * {@code isGrpcRequestHeaders} on the request as it arrived; see {@link GrpcCommon#isGrpcRequest}) is answered
     * trailers-only instead: {@code :status 200}, {@code content-type: application/grpc}, {@code grpc-status}
     * as {@code modifyHeaders} set it (Envoy's {@code grpc_status} argument) or else
     * {@link GrpcCommon#httpToGrpcStatus} of {@code status}, {@code grpc-message} the
     * {@link GrpcCommon#percentEncode percent-encoded} body, no body. The reply passes through the encoder
     * filters. If response headers were already sent the stream is reset instead.
     *
     * <p>Re-entrant: the reply may complete the stream before this call returns, so this filter's
     * {@code onDestroy} may already have run. Touch no filter state after calling it; return a STOP status.
     *
     * @param body          the body, or {@code ""} for none
     * @param modifyHeaders called on the reply's headers before they are encoded; may be {@code null}
     * @param details       Envoy's response code details, e.g. {@code route_not_found}
     */
    void sendLocalReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details);

    /**
     * Sends response headers downstream from the decoder side (the router does this with the upstream's
     * response): they pass through every encoder filter.
     *
     * <p>The map is handed over: encoder filters and the host may change it; the caller may read it afterwards
     * (an upstream access log does) but not change it. With {@code endStream} the stream may complete, and
     * this filter's {@code onDestroy} run, before the call returns.
     */
    void encodeHeaders(HeaderMap headers, boolean endStream);

    /** Sends response body downstream; {@code data} is transferred. */
    void encodeData(ByteBuf data, boolean endStream);

    /** Sends response trailers downstream; ends the response. */
    void encodeTrailers(HeaderMap trailers);

    /** Resets the stream: the downstream sees a reset (HTTP/1.1: the connection closes). */
    void resetStream();

    /** The request path's upstream is full: stop reading the downstream (counted, like readDisable). */
    void onDecoderFilterAboveWriteBufferHighWatermark();

    /** The request path's upstream drained: resume reading the downstream. */
    void onDecoderFilterBelowWriteBufferLowWatermark();

    /** Registers for the downstream connection's write-buffer watermarks (to pause an upstream's reads). */
    void addDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks);

    void removeDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks);

    // Encoding (response path)

    /** Resumes the response path after this filter returned a STOP status. */
    void continueEncoding();

    /** The response body held by this filter's STOP_*_AND_BUFFER status, or {@code null}; borrowed. */
    ByteBuf encodingBuffer();

    /** Adds data to the response, like {@link #addDecodedData}; {@code data} is transferred. */
    void addEncodedData(ByteBuf data);

    /**
     * Passes {@code data} straight to the encoder filters after this one, and then downstream (Envoy's
     * {@code injectEncodedDataToFilterChain}, source/common/http/filter_manager.cc). For a filter that took
     * response data with {@link FilterDataStatus#STOP_ITERATION_NO_BUFFER} and releases it later, in pieces and
     * from a timer: a response rate limiter (the fault filter's {@code response_rate_limit}). Unlike
     * {@link #continueEncoding()} it carries its own {@code endStream}, so a filter can release part of what it
     * holds after the upstream already ended the response. If this filter still holds the response headers,
     * they are passed on first.
     *
     * <p>Call it on {@link #dispatcher()} from a task of this filter (a timer), not from inside this filter's
     * own {@code encode*} callbacks. With {@code endStream} the response may complete, and this filter's
     * {@code onDestroy} run, before the call returns. Once the stream ended the data is released and nothing
     * happens.
     *
     * <p>The host and the test kit's {@code HttpFilterHarness} implement it; the default (for callbacks that
     * cannot inject, such as a test's fake) throws {@link UnsupportedOperationException}.
     *
     * @param data      transferred: the host releases it (it may be empty, to end the stream)
     * @param endStream whether this ends the response (no trailers follow)
     */
    default void injectEncodedDataToFilterChain(ByteBuf data, boolean endStream) {
        data.release();
        throw new UnsupportedOperationException("injectEncodedDataToFilterChain");
    }

    /**
     * This filter holds more response data than {@link #bufferLimit()}: pause the response's source, as a full
     * downstream connection would (Envoy's {@code onEncoderFilterAboveWriteBufferHighWatermark}). The host tells
     * the callbacks registered with {@link #addDownstreamWatermarkCallbacks} (the router stops reading the
     * upstream). Counted: each call must be followed by one {@link #onEncoderFilterBelowWriteBufferLowWatermark()}
     * while the stream lives. The default throws {@link UnsupportedOperationException}.
     */
    default void onEncoderFilterAboveWriteBufferHighWatermark() {
        throw new UnsupportedOperationException("onEncoderFilterAboveWriteBufferHighWatermark");
    }

    /**
     * This filter drained what it held below its low watermark: resume the response's source (Envoy's
     * {@code onEncoderFilterBelowWriteBufferLowWatermark}). The default throws
     * {@link UnsupportedOperationException}.
     */
    default void onEncoderFilterBelowWriteBufferLowWatermark() {
        throw new UnsupportedOperationException("onEncoderFilterBelowWriteBufferLowWatermark");
    }
}
