package dev.legate.host.accesslog;

import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;

/**
 * What one access-log entry is formatted from. Headers are {@code null} for L4 or when absent.
 *
 * @param nowNanos {@link System#nanoTime()} when the entry was logged, for {@code %DURATION%}
 */
record LogContext(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                  StreamInfo info, long nowNanos) {
}
