package dev.legate.api.upstream;

import dev.legate.api.http.HeaderMap;
import io.netty.buffer.ByteBuf;

/**
 * The request side of one upstream HTTP stream (Envoy's {@code RequestEncoder}). Confined to its event
 * loop. The HTTP/1.1 codec writes {@code :method}/{@code :path}/{@code :authority} as the request line and
 * {@code Host}; the HTTP/2 codec sends the pseudo-headers ({@code :scheme} defaults to {@code http}) and drops
 * HTTP/1 connection-specific headers.
 */
public interface UpstreamHttpStream {

    /**
     * Writes the request head. The map is read during the call and may be written as is (the host's HTTP/1.1
     * codec encodes the downstream's own header object, adding {@code Host} only for the encode); the caller
     * keeps it and may send it again on a retry.
     */
    void encodeHeaders(HeaderMap headers, boolean endStream);

    /** @param data transferred: the stream releases it */
    void encodeData(ByteBuf data, boolean endStream);

    void encodeTrailers(HeaderMap trailers);

    /**
     * Abandons the stream; no further callbacks. Idempotent. HTTP/1.1: its connection is closed, not reused.
     * HTTP/2: {@code RST_STREAM CANCEL}; the connection carries on with its other streams.
     */
    void reset();

    /** Stops ({@code true}) or resumes reading the response, counted like readDisable. */
    void readDisable(boolean disable);

    /**
     * Whether the connection's write buffer is below its high watermark (HTTP/2: the stream's, which also
     * turns false while the peer's flow-control window for the stream is used up).
     */
    boolean isWritable();
}
