package dev.legate.api.http;

/**
 * Envoy's {@code config.core.v3.Http2ProtocolOptions} as Legate uses them, for a downstream connection (HCM)
 * or an upstream cluster. Immutable.
 *
 * @param maxConcurrentStreams        {@code max_concurrent_streams}: streams the peer may open at once
 *                                    (advertised in SETTINGS); Legate's default is 1024
 * @param initialStreamWindowSize     {@code initial_stream_window_size} in bytes (65535..2^31-1; Envoy's
 *                                    default 268435456)
 * @param initialConnectionWindowSize {@code initial_connection_window_size} in bytes (same range and default)
 * @param allowConnect                {@code allow_connect}: extended CONNECT (RFC 8441) is advertised
 *                                    with {@code SETTINGS_ENABLE_CONNECT_PROTOCOL} and accepted
 * @param hpackTableSize              {@code hpack_table_size} in bytes (4096 default)
 */
public record Http2Options(long maxConcurrentStreams, int initialStreamWindowSize,
                           int initialConnectionWindowSize, boolean allowConnect, long hpackTableSize) {

    /** Envoy's defaults, except {@code max_concurrent_streams}: 1024. */
    public static final Http2Options DEFAULTS = new Http2Options(1024, 268_435_456, 268_435_456, false, 4096);
}
