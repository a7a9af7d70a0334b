package dev.legate.host.http;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Stats;

/**
 * The downstream HTTP/2 codec's meters, rooted at {@code http2.} as in Envoy
 * ({@code source/common/http/http2/codec_stats.h}, docs {@code configuration/http/http_conn_man/stats.rst}
 * "Per codec statistics"). Looked up once per connection manager; the meters are thread-safe.
 */
final class Http2CodecStats {

    /** RST_STREAM frames received. */
    final Counter rxReset;
    /** RST_STREAM frames sent (Legate's resets and the codec's own, e.g. REFUSED_STREAM). */
    final Counter txReset;
    /** Request header blocks over {@code max_request_headers_kb} or {@code max_headers_count}. */
    final Counter headerOverflow;
    /** Streams reset because the request broke HTTP/2 messaging rules (missing pseudo-headers...). */
    final Counter rxMessagingError;
    /** Request trailers received. */
    final Counter trailers;
    /** Streams open now. */
    final Gauge streamsActive;

    /** @param http2 the {@code http2.} scope (the root scope's {@code http2.} child) */
    Http2CodecStats(Stats http2) {
        rxReset = http2.counter("rx_reset");
        txReset = http2.counter("tx_reset");
        headerOverflow = http2.counter("header_overflow");
        rxMessagingError = http2.counter("rx_messaging_error");
        trailers = http2.counter("trailers");
        streamsActive = http2.gauge("streams_active");
    }
}
