/**
 * The host's HTTP/1.1 and HTTP/2 (h2c) codecs and stream state machine (Envoy's {@code source/common/http}:
 * {@code conn_manager_impl} + {@code filter_manager}, {@code http1/} and {@code http2/codec_impl}), offered to the
 * HTTP connection manager plugin through {@link dev.legate.host.http.HttpConnectionServiceImpl}. Both codecs
 * feed the same {@code ActiveStream} through {@code ServerCodecConnection}. Everything here runs on the
 * connection's event loop.
 */
package dev.legate.host.http;
