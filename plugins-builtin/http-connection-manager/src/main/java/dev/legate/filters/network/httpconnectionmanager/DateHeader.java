package dev.legate.filters.network.httpconnectionmanager;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The response {@code date} header (RFC 7231 IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}),
 * formatted at most once per second and shared by every event loop (Envoy's {@code TlsCachingDateProvider}).
 * Lock-free: a stale read only formats the same second again.
 */
final class DateHeader {

    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    private record Cached(long second, String text) {
    }

    private static volatile Cached cached = new Cached(Long.MIN_VALUE, "");

    private DateHeader() {
    }

    /** The header value for {@code epochMillis}. */
    static String format(long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        Cached c = cached;
        if (c.second() != second) {
            c = new Cached(second, FORMAT.format(Instant.ofEpochSecond(second)));
            cached = c;
        }
        return c.text();
    }
}
