package dev.legate.api;

import dev.legate.api.http.HeaderMap;

/**
 * The loggers configured in an {@code access_log} list ({@code envoy.access_loggers.stdout}, {@code .file},
 * with Envoy's format strings). Thread-safe: one instance serves every event loop.
 */
public interface AccessLogger {

    /** A logger that writes nothing. */
    AccessLogger NONE = (req, resp, trailers, info) -> { };

    /**
     * Writes one entry. Headers are {@code null} for L4 or when absent.
     */
    void log(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers, StreamInfo streamInfo);
}
