package dev.legate.api.http;

import io.netty.buffer.ByteBuf;

/**
 * The response half of an HTTP filter (Envoy's {@code StreamEncoderFilter}): "encode" is the response,
 * upstream to downstream, in reverse {@code http_filters} order. Local replies pass through it too.
 */
public interface StreamEncoderFilter {

    /** Response headers, {@code :status} among them. Mutable until passed on. */
    default FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        return FilterHeadersStatus.CONTINUE;
    }

    /** A chunk of the response body, borrowed like {@link StreamDecoderFilter#decodeData}. */
    default FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        return FilterDataStatus.CONTINUE;
    }

    /** Response trailers; the end of the response. */
    default FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        return FilterTrailersStatus.CONTINUE;
    }
}
