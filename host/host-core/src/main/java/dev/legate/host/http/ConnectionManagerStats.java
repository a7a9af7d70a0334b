package dev.legate.host.http;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;

/**
 * The HTTP connection manager's meters under {@code http.<stat_prefix>.} with Envoy's names
 * ({@code docs/root/configuration/http/http_conn_man/stats.rst}). Looked up once per installer, shared by
 * every connection and event loop (the meters are thread-safe).
 */
final class ConnectionManagerStats {

    final Counter cxTotal;
    final Counter cxHttp1Total;
    final Gauge cxActive;
    final Gauge cxHttp1Active;
    final Counter cxDestroy;
    final Counter cxDestroyLocal;
    final Counter cxDestroyRemote;
    final Counter cxDestroyActiveRq;
    final Counter cxProtocolError;
    final Counter cxRxBytesTotal;
    final Counter cxTxBytesTotal;
    final Counter cxIdleTimeout;
    final Histogram cxLengthMs;
    final Counter rqTotal;
    final Counter rqHttp1Total;
    final Gauge rqActive;
    final Counter rq1xx;
    final Counter rq2xx;
    final Counter rq3xx;
    final Counter rq4xx;
    final Counter rq5xx;
    final Counter rqCompleted;
    final Counter rqIdleTimeout;
    final Counter rqTimeout;
    final Counter rqTooLarge;
    final Counter rsTooLarge;
    final Counter rqResponseBeforeRqComplete;
    final Counter rqRxReset;
    final Counter rqTxReset;
    final Histogram rqTimeMs;
    final Counter flowControlPausedReading;
    final Counter flowControlResumedReading;
    final Counter cxHttp2Total;
    final Gauge cxHttp2Active;
    final Counter rqHttp2Total;
    // HTTP upgrades (WebSocket): accepted upgrades, and requests refused because the route does not allow them.
    final Counter cxUpgradesTotal;
    final Gauge cxUpgradesActive;
    final Counter rqWsOnNonWsRoute;

    ConnectionManagerStats(Stats s) {
        cxTotal = s.counter("downstream_cx_total");
        cxHttp1Total = s.counter("downstream_cx_http1_total");
        cxActive = s.gauge("downstream_cx_active");
        cxHttp1Active = s.gauge("downstream_cx_http1_active");
        cxDestroy = s.counter("downstream_cx_destroy");
        cxDestroyLocal = s.counter("downstream_cx_destroy_local");
        cxDestroyRemote = s.counter("downstream_cx_destroy_remote");
        cxDestroyActiveRq = s.counter("downstream_cx_destroy_active_rq");
        cxProtocolError = s.counter("downstream_cx_protocol_error");
        cxRxBytesTotal = s.counter("downstream_cx_rx_bytes_total");
        cxTxBytesTotal = s.counter("downstream_cx_tx_bytes_total");
        cxIdleTimeout = s.counter("downstream_cx_idle_timeout");
        cxLengthMs = s.histogram("downstream_cx_length_ms");
        rqTotal = s.counter("downstream_rq_total");
        rqHttp1Total = s.counter("downstream_rq_http1_total");
        rqActive = s.gauge("downstream_rq_active");
        rq1xx = s.counter("downstream_rq_1xx");
        rq2xx = s.counter("downstream_rq_2xx");
        rq3xx = s.counter("downstream_rq_3xx");
        rq4xx = s.counter("downstream_rq_4xx");
        rq5xx = s.counter("downstream_rq_5xx");
        rqCompleted = s.counter("downstream_rq_completed");
        rqIdleTimeout = s.counter("downstream_rq_idle_timeout");
        rqTimeout = s.counter("downstream_rq_timeout");
        rqTooLarge = s.counter("downstream_rq_too_large");
        rsTooLarge = s.counter("rs_too_large");
        rqResponseBeforeRqComplete = s.counter("downstream_rq_response_before_rq_complete");
        rqRxReset = s.counter("downstream_rq_rx_reset");
        rqTxReset = s.counter("downstream_rq_tx_reset");
        rqTimeMs = s.histogram("downstream_rq_time");
        flowControlPausedReading = s.counter("downstream_flow_control_paused_reading_total");
        flowControlResumedReading = s.counter("downstream_flow_control_resumed_reading_total");
        cxHttp2Total = s.counter("downstream_cx_http2_total");
        cxHttp2Active = s.gauge("downstream_cx_http2_active");
        rqHttp2Total = s.counter("downstream_rq_http2_total");
        cxUpgradesTotal = s.counter("downstream_cx_upgrades_total");
        cxUpgradesActive = s.gauge("downstream_cx_upgrades_active");
        rqWsOnNonWsRoute = s.counter("downstream_rq_ws_on_non_ws_route");
    }

    /** Charges {@code downstream_rq_<class>xx} when response headers are encoded (local replies included). */
    void chargeResponseCode(int status) {
        switch (status / 100) {
            case 1 -> rq1xx.inc();
            case 2 -> rq2xx.inc();
            case 3 -> rq3xx.inc();
            case 4 -> rq4xx.inc();
            case 5 -> rq5xx.inc();
            default -> { }
        }
    }
}
