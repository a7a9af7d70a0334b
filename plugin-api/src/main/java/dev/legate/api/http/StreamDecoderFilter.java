package dev.legate.api.http;

import io.netty.buffer.ByteBuf;

/**
 * The request half of an HTTP filter (Envoy's {@code StreamDecoderFilter}): "decode" is the request,
 * downstream to upstream, in {@code http_filters} order. Called on the stream's event loop.
 */
public interface StreamDecoderFilter {

    /**
     * Request headers. The map stays mutable until this filter passes it on.
     *
     * @param endStream no body or trailers follow
     */
    default FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        return FilterHeadersStatus.CONTINUE;
    }

    /**
     * A chunk of the request body.
     *
     * @param data borrowed for this call; retain to keep. A filter may modify it in place.
     */
    default FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        return FilterDataStatus.CONTINUE;
    }

    /** Request trailers; the end of the request. */
    default FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        return FilterTrailersStatus.CONTINUE;
    }
}
