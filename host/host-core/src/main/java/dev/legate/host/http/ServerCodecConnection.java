package dev.legate.host.http;

import dev.legate.api.http.HeaderMap;
import dev.legate.api.upstream.ClusterManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * What an {@link ActiveStream} needs from the codec that carries it (Envoy's {@code ResponseEncoder} plus the
 * connection-manager hooks): the HTTP/1.1 connection handler, or one HTTP/2 stream of a multiplexed
 * connection. The stream and its filter chain are codec-agnostic; everything protocol-specific (hop-by-hop
 * headers, chunking, pseudo-headers, RST_STREAM) lives behind this interface.
 *
 * <p>Confined to the connection's event loop: every method is called there and calls back there.
 */
interface ServerCodecConnection {

    /** The event loop's clock in nanoseconds (a test's EmbeddedChannel can advance it). */
    long nanoTime();

    /** The downstream connection's id (for logs and {@code %CONNECTION_ID%}). */
    long id();

    /** The allocator of the connection's channel. */
    ByteBufAllocator alloc();

    /** {@code per_connection_buffer_limit_bytes} of the listener: the stream's buffer limit in bytes. */
    int bufferLimit();

    ClusterManager clusterManager();

    /** Whether the stream's write side is above its high watermark (connection or HTTP/2 stream window). */
    boolean aboveHighWatermark();

    /**
     * Stops ({@code true}) or resumes reading request data for {@code s}; counted, so every disable is matched
     * by one enable. HTTP/1.1 stops reading the socket; HTTP/2 stops returning the stream's window.
     */
    void readDisable(ActiveStream s, boolean disable);

    /** An informational (1xx, not 101) response; {@code headers == null} means {@code 100 Continue}. */
    void write1xx(ActiveStream s, HeaderMap headers);

    /** The response head; after {@code endStream} nothing more is written for {@code s}. */
    void writeResponseHeaders(ActiveStream s, HeaderMap headers, boolean endStream);

    /**
     * Response body.
     *
     * @param data transferred to the codec, which releases it; {@code null} means "end only"
     */
    void writeResponseData(ActiveStream s, ByteBuf data, boolean endStream);

    /** Response trailers: they end the response (HTTP/1.1 ends the message and drops them, as Envoy does). */
    void writeResponseTrailers(ActiveStream s, HeaderMap trailers);

    /** The stream is over (complete or reset); the codec may start the next one or close. */
    void onStreamDestroyed(ActiveStream s);

    /** Resets {@code s}: HTTP/1.1 closes the connection without flushing, HTTP/2 sends RST_STREAM. */
    void resetStream(ActiveStream s);
}
