package dev.legate.host.listener;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;

/**
 * A listener's stats under {@code listener.<address>.} (address with {@code :} as {@code _}, e.g.
 * {@code listener.127.0.0.1_10000.}) or {@code listener.<stat_prefix>.} (Envoy's listener stats). Thread-safe.
 */
final class ListenerStats {

    final Counter downstreamCxTotal;
    final Counter downstreamCxDestroy;
    final Gauge downstreamCxActive;
    final Histogram downstreamCxLengthMs;

    ListenerStats(Stats scope) {
        downstreamCxTotal = scope.counter("downstream_cx_total");
        downstreamCxDestroy = scope.counter("downstream_cx_destroy");
        downstreamCxActive = scope.gauge("downstream_cx_active");
        downstreamCxLengthMs = scope.histogram("downstream_cx_length_ms");
    }

    void connectionOpened() {
        downstreamCxTotal.inc();
        downstreamCxActive.inc();
    }

    void connectionClosed(long lengthMillis) {
        downstreamCxActive.dec();
        downstreamCxDestroy.inc();
        downstreamCxLengthMs.record(lengthMillis);
    }
}
