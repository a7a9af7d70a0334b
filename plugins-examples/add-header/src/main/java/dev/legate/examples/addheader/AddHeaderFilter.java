package dev.legate.examples.addheader;

import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;

/**
 * Adds one header to the response of a stream. Runs on the stream's event loop; touches no buffer, keeps no
 * state beyond its immutable settings.
 *
 * <p>Only {@code encodeHeaders} is overridden: every other callback keeps the SPI's default
 * ({@code CONTINUE}). Local replies (404 no route, 503 no healthy upstream, ...) pass through the encoder
 * filters too, so they carry the header as well. The value is appended: a header of the same name sent by
 * the upstream is kept (Envoy's {@code APPEND_IF_EXISTS_OR_ADD}).
 */
final class AddHeaderFilter implements HttpFilter {

    private final String header;
    private final String value;

    AddHeaderFilter(String header, String value) {
        this.header = header;
        this.value = value;
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        headers.add(header, value);
        return FilterHeadersStatus.CONTINUE;
    }
}
