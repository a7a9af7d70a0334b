package dev.legate.host.upstream;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Stats;

/**
 * The {@code cluster.<name>.} stats that the cluster manager and its pools count (Envoy's
 * {@code ALL_CLUSTER_TRAFFIC_STATS} subset; the router counts {@code upstream_rq_total|active|<code>|...}).
 * Meters are looked up once per cluster.
 */
final class ClusterStats {
    final Counter cxTotal;
    final Gauge cxActive;
    final Counter cxHttp1Total;
    final Counter cxHttp2Total;
    final Counter cxCloseNotify;
    final Counter cxConnectFail;
    final Counter cxConnectTimeout;
    final Counter cxDestroy;
    final Counter cxDestroyLocal;
    final Counter cxDestroyRemote;
    final Counter cxDestroyWithActiveRq;
    final Counter cxRxBytesTotal;
    final Counter cxTxBytesTotal;
    final Counter cxOverflow;
    final Counter cxIdleTimeout;
    final Counter cxMaxRequests;
    final Counter cxProtocolError;
    final Counter rqPendingTotal;
    final Gauge rqPendingActive;
    final Counter rqPendingOverflow;
    final Counter rqPendingFailureEject;
    final Counter rqCancelled;
    final Counter lbHealthyPanic;
    final Counter membershipChange;
    final Gauge membershipTotal;
    final Gauge membershipHealthy;
    final Gauge maxHostWeight;
    final Counter updateAttempt;
    final Counter updateSuccess;
    final Counter updateFailure;
    final Counter updateNoRebuild;
    /**
     * {@code cluster.<name>.http2.*}: the upstream HTTP/2 codec's stats (Envoy's {@code Http2::CodecStats}
     * subset), or {@code null} for an HTTP/1.1 cluster (Envoy creates them with the first HTTP/2 codec).
     */
    final Http2 http2;

    /** Envoy's {@code ALL_HTTP2_CODEC_STATS} that Legate counts, under {@code cluster.<name>.http2.}. */
    static final class Http2 {
        final Counter rxReset;
        final Counter txReset;
        final Counter trailers;
        final Counter streamRefusedErrors;
        final Gauge streamsActive;

        Http2(Stats s) {
            rxReset = s.counter("rx_reset");
            txReset = s.counter("tx_reset");
            trailers = s.counter("trailers");
            streamRefusedErrors = s.counter("stream_refused_errors");
            streamsActive = s.gauge("streams_active");
        }
    }

    ClusterStats(Stats s, boolean http2Codec) {
        cxTotal = s.counter("upstream_cx_total");
        cxActive = s.gauge("upstream_cx_active");
        cxHttp1Total = s.counter("upstream_cx_http1_total");
        cxHttp2Total = s.counter("upstream_cx_http2_total");
        cxCloseNotify = s.counter("upstream_cx_close_notify");
        cxConnectFail = s.counter("upstream_cx_connect_fail");
        cxConnectTimeout = s.counter("upstream_cx_connect_timeout");
        cxDestroy = s.counter("upstream_cx_destroy");
        cxDestroyLocal = s.counter("upstream_cx_destroy_local");
        cxDestroyRemote = s.counter("upstream_cx_destroy_remote");
        cxDestroyWithActiveRq = s.counter("upstream_cx_destroy_with_active_rq");
        cxRxBytesTotal = s.counter("upstream_cx_rx_bytes_total");
        cxTxBytesTotal = s.counter("upstream_cx_tx_bytes_total");
        cxOverflow = s.counter("upstream_cx_overflow");
        cxIdleTimeout = s.counter("upstream_cx_idle_timeout");
        cxMaxRequests = s.counter("upstream_cx_max_requests");
        cxProtocolError = s.counter("upstream_cx_protocol_error");
        rqPendingTotal = s.counter("upstream_rq_pending_total");
        rqPendingActive = s.gauge("upstream_rq_pending_active");
        rqPendingOverflow = s.counter("upstream_rq_pending_overflow");
        rqPendingFailureEject = s.counter("upstream_rq_pending_failure_eject");
        rqCancelled = s.counter("upstream_rq_cancelled");
        lbHealthyPanic = s.counter("lb_healthy_panic");
        membershipChange = s.counter("membership_change");
        membershipTotal = s.gauge("membership_total");
        membershipHealthy = s.gauge("membership_healthy");
        maxHostWeight = s.gauge("max_host_weight");
        updateAttempt = s.counter("update_attempt");
        updateSuccess = s.counter("update_success");
        updateFailure = s.counter("update_failure");
        updateNoRebuild = s.counter("update_no_rebuild");
        http2 = http2Codec ? new Http2(s.scope("http2")) : null;
    }
}
