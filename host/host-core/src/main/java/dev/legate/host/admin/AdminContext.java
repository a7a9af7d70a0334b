package dev.legate.host.admin;

import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.List;
import java.util.Map;

/**
 * What the admin interface reads from and does to the server; the Server implements it. Every method is
 * called on the admin thread, so implementations are thread-safe with respect to the workers and the main
 * thread, and return quickly (never wait for a drain).
 */
public interface AdminContext {

    /** The process's stats. */
    StatsStore stats();

    /** Envoy's {@code /clusters} text ({@code cluster::host::field::value} lines). */
    String clustersText();

    /** The bound listeners, in config order. */
    List<ListenerInfo> listeners();

    /** The bootstrap in effect (an {@code envoy.config.bootstrap.v3.Bootstrap}). */
    Message bootstrap();

    /** {@code LIVE} or {@code DRAINING} (Envoy's {@code ServerInfo.State} names). */
    String state();

    /** Seconds since the server started. */
    long uptimeSeconds();

    /**
     * The command line, by Envoy's {@code admin.v3.CommandLineOptions} field names: {@code concurrency}
     * (Number), {@code drain_time} (Number of seconds or {@link java.time.Duration}), {@code service_node},
     * {@code service_cluster}, {@code config_path}, {@code mode} ({@code serve}|{@code validate}),
     * {@code log_level}, ... Unknown keys are ignored.
     */
    Map<String, Object> commandLineOptions();

    /** The bootstrap's {@code node}, completed by {@code --service-node}/{@code --service-cluster}. */
    Node node();

    /** The loaded plugins. */
    List<PluginInfo> plugins();

    /**
     * {@code POST /quitquitquit}: exit cleanly. Called on a fresh thread after the {@code OK} response was
     * flushed, so it may close the admin server.
     */
    void quit();

    /** {@code POST /healthcheck/fail} ({@code true}) and {@code /healthcheck/ok} ({@code false}). */
    void setHealthCheckFailed(boolean failed);

    /** Every {@code @type} the config may hold (filters' configs, access loggers), for {@code /config_dump}. */
    TypeRegistry typeRegistry();
}
