package dev.legate.api.upstream;

import dev.legate.api.http.HeaderMap;
import io.netty.buffer.ByteBuf;

/**
 * Receives one upstream response (Envoy's {@code ResponseDecoder} and {@code StreamCallbacks}), on the
 * stream's event loop. After {@code endStream} or {@link #onReset}, nothing more is called.
 */
public interface UpstreamResponseHandler {

    /**
     * Response headers; the map is handed to the handler. {@code 1xx} informational responses are not
     * delivered yet (so {@code proxy_100_continue} is not supported).
     */
    void onHeaders(HeaderMap headers, boolean endStream);

    /** @param data transferred to the handler: it releases or passes it on */
    void onData(ByteBuf data, boolean endStream);

    void onTrailers(HeaderMap trailers);

    /** The stream died before its end (connection closed, protocol error). */
    void onReset(ResetReason reason, String transportFailure);

    /**
     * The upstream connection's write buffer (HTTP/2: the stream's) went above its high watermark: stop sending
     * request body.
     */
    default void onAboveWriteBufferHighWatermark() {
    }

    /** ... and drained below its low watermark. */
    default void onBelowWriteBufferLowWatermark() {
    }
}
