package dev.legate.filters.network.redisproxy;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The filter's stats under {@code redis.<stat_prefix>.}, Envoy's names ({@code ALL_REDIS_PROXY_STATS} in
 * {@code proxy_filter.h}, {@code ALL_COMMAND_SPLITTER_STATS} and {@code ALL_COMMAND_STATS} in
 * {@code command_splitter_impl.h}). Looked up once per listener config; meters are thread-safe.
 *
 * @param downstreamCxActive          open client connections
 * @param downstreamCxProtocolError   client connections closed for bytes that were not RESP
 * @param downstreamCxRxBytesBuffered bytes of incomplete requests held
 * @param downstreamCxRxBytesTotal    bytes read from clients
 * @param downstreamCxTotal           client connections accepted
 * @param downstreamCxTxBytesBuffered bytes of replies written but not yet flushed to the socket (kept at 0:
 *                                    Legate hands replies to the connection at once)
 * @param downstreamCxTxBytesTotal    bytes written to clients
 * @param downstreamCxDrainClose      connections closed by a drain (never today: no drain SPI)
 * @param downstreamRqActive          requests in flight
 * @param downstreamRqTotal           requests received
 * @param invalidRequest              {@code splitter.invalid_request}
 * @param unsupportedCommand          {@code splitter.unsupported_command}
 * @param commands                    {@code command.<cmd>.*} of every routed command, by lower-case name
 */
record RedisProxyStats(Gauge downstreamCxActive,
                       Counter downstreamCxProtocolError,
                       Gauge downstreamCxRxBytesBuffered,
                       Counter downstreamCxRxBytesTotal,
                       Counter downstreamCxTotal,
                       Gauge downstreamCxTxBytesBuffered,
                       Counter downstreamCxTxBytesTotal,
                       Counter downstreamCxDrainClose,
                       Gauge downstreamRqActive,
                       Counter downstreamRqTotal,
                       Counter invalidRequest,
                       Counter unsupportedCommand,
                       Map<String, CommandStats> commands) {

    /**
     * {@code command.<cmd>.} stats.
     *
     * @param latency milliseconds, or microseconds with {@code latency_in_micros}
     * @param errorFault {@code error_fault} (no fault injection yet: stays 0)
     * @param delayFault {@code delay_fault} (no fault injection yet: stays 0)
     */
    record CommandStats(Counter total, Counter success, Counter error, Histogram latency, Counter errorFault,
                        Counter delayFault) {
    }

    /** The stats of {@code redis.<statPrefix>.} in {@code root}, with command stats for {@code commands}. */
    static RedisProxyStats create(Stats root, String statPrefix, Set<String> commands) {
        Stats s = root.scope("redis." + statPrefix);
        Stats splitter = s.scope("splitter");
        Map<String, CommandStats> cmds = new HashMap<>();
        for (String c : commands) {
            Stats cs = s.scope("command." + c);
            cmds.put(c, new CommandStats(cs.counter("total"), cs.counter("success"), cs.counter("error"),
                    cs.histogram("latency"), cs.counter("error_fault"), cs.counter("delay_fault")));
        }
        return new RedisProxyStats(
                s.gauge("downstream_cx_active"),
                s.counter("downstream_cx_protocol_error"),
                s.gauge("downstream_cx_rx_bytes_buffered"),
                s.counter("downstream_cx_rx_bytes_total"),
                s.counter("downstream_cx_total"),
                s.gauge("downstream_cx_tx_bytes_buffered"),
                s.counter("downstream_cx_tx_bytes_total"),
                s.counter("downstream_cx_drain_close"),
                s.gauge("downstream_rq_active"),
                s.counter("downstream_rq_total"),
                splitter.counter("invalid_request"),
                splitter.counter("unsupported_command"),
                Map.copyOf(cmds));
    }
}
