package dev.legate.filters.network.tcpproxy;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Stats;

/**
 * The filter's stats under {@code tcp.<stat_prefix>.}, Envoy's names ({@code ALL_TCP_PROXY_STATS} in
 * {@code tcp_proxy.h}). Looked up once per listener config; counters are thread-safe.
 *
 * @param downstreamCxTotal                        connections handled
 * @param downstreamCxNoRoute                      connections whose cluster does not exist
 * @param downstreamCxTxBytesTotal                 bytes written to the downstream
 * @param downstreamCxRxBytesTotal                 bytes read from the downstream
 * @param downstreamFlowControlPausedReadingTotal  downstream reads paused because the upstream was full
 * @param downstreamFlowControlResumedReadingTotal ... and resumed
 * @param idleTimeout                              connections closed by {@code idle_timeout}
 */
record TcpProxyStats(Counter downstreamCxTotal,
                     Counter downstreamCxNoRoute,
                     Counter downstreamCxTxBytesTotal,
                     Counter downstreamCxRxBytesTotal,
                     Counter downstreamFlowControlPausedReadingTotal,
                     Counter downstreamFlowControlResumedReadingTotal,
                     Counter idleTimeout) {

    /** The stats of {@code tcp.<statPrefix>.} in {@code root}. */
    static TcpProxyStats create(Stats root, String statPrefix) {
        Stats s = root.scope("tcp." + statPrefix);
        return new TcpProxyStats(
                s.counter("downstream_cx_total"),
                s.counter("downstream_cx_no_route"),
                s.counter("downstream_cx_tx_bytes_total"),
                s.counter("downstream_cx_rx_bytes_total"),
                s.counter("downstream_flow_control_paused_reading_total"),
                s.counter("downstream_flow_control_resumed_reading_total"),
                s.counter("idle_timeout"));
    }
}
