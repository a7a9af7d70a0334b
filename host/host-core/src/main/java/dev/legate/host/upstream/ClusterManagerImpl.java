package dev.legate.host.upstream;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.stats.Gauge;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clusters of one config snapshot (Envoy's {@code ClusterManagerImpl} for {@code static_resources.clusters}).
 *
 * <p>Lifecycle: the constructor checks and compiles every cluster and opens no socket (so
 * {@code --mode validate} can build it); {@link #start()} resolves every DNS cluster once (at most 5 s in
 * all, Envoy's warming with {@code wait_for_warm_on_init}) and then keeps re-resolving on a dedicated daemon
 * thread, never on an event loop; {@link #close()} stops DNS and closes every upstream connection.
 *
 * <p>Supported {@code Cluster} fields: {@code name}, {@code alt_stat_name}, {@code type} ({@code STATIC},
 * {@code STRICT_DNS}, {@code LOGICAL_DNS}), {@code connect_timeout} (5 s), {@code per_connection_buffer_limit_bytes}
 * (1 MiB), {@code lb_policy} ({@code ROUND_ROBIN}, {@code LEAST_REQUEST}, {@code RANDOM}),
 * {@code least_request_lb_config.choice_count|active_request_bias}, {@code common_lb_config.healthy_panic_threshold},
 * {@code load_assignment} (priority 0; weights; {@code health_status}), {@code circuit_breakers.thresholds}
 * (DEFAULT and HIGH; only DEFAULT is enforced), {@code dns_refresh_rate} (5 s), {@code dns_failure_refresh_rate},
 * {@code dns_lookup_family}, {@code wait_for_warm_on_init}, {@code max_requests_per_connection},
 * {@code common_http_protocol_options.idle_timeout} (1 h) and the same in
 * {@code typed_extension_protocol_options} {@code envoy.extensions.upstreams.http.v3.HttpProtocolOptions} with
 * {@code explicit_http_config.http_protocol_options: {}}; HTTP/2 to the hosts (cleartext, prior knowledge) with
 * {@code explicit_http_config.http2_protocol_options} or the legacy {@code http2_protocol_options}
 * ({@code max_concurrent_streams}, {@code initial_stream_window_size}, {@code initial_connection_window_size},
 * {@code hpack_table_size}; see {@link Http2ConnectionPoolImpl}). Other fields: a warning when they do not change
 * behaviour, otherwise a {@link ConfigException} {@code static_resources.clusters[i].<field>: not supported yet}.
 *
 * <p>Stats: {@code cluster.<name>.*} per cluster (see {@link UpstreamCluster#stats()}), and
 * {@code cluster_manager.active_clusters} (gauge) and {@code cluster_manager.cluster_added}.
 */
public final class ClusterManagerImpl implements ClusterManager, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterManagerImpl.class);

    /** How long {@link #start()} waits for the first DNS answers of all clusters together. */
    static final long WARM_TIMEOUT_MILLIS = 5000;

    private final Map<String, ClusterImpl> clusters;
    private final ChannelGroup channels = new DefaultChannelGroup("legate-upstream", GlobalEventExecutor.INSTANCE);
    private final Gauge activeClusters;
    private ScheduledExecutorService dns;
    private volatile boolean closed;

    /**
     * Checks and builds {@code clusters}; opens no socket and resolves no name.
     *
     * @param clusters {@code static_resources.clusters}, in config order
     * @param stats    the process's stats
     * @param workers  the worker loops the pools will run on; nothing is created on them here (pools are
     *                 made lazily, on the loop that first asks for one)
     * @throws ConfigException naming {@code static_resources.clusters[i].<field>} for the first field that
     *                         cannot run, or a duplicate name
     */
    public ClusterManagerImpl(List<Cluster> clusters, StatsStore stats, EventLoopGroup workers) {
        requireNonNull(clusters, "clusters");
        requireNonNull(stats, "stats");
        requireNonNull(workers, "workers");
        Map<String, ClusterImpl> byName = new LinkedHashMap<>();
        List<ClusterSettings> settings = new ArrayList<>();
        for (int i = 0; i < clusters.size(); i++) {
            String path = "static_resources.clusters[" + i + "]";
            ClusterSettings s = ClusterSettings.of(clusters.get(i), path);
            for (ClusterSettings other : settings) {
                if (other.name.equals(s.name)) {
                    throw ConfigException.at(path + ".name", "\"" + s.name + "\" (expected: a unique cluster name; "
                            + other.path + " has it too)");
                }
            }
            settings.add(s);
        }
        for (ClusterSettings s : settings) {
            byName.put(s.name, new ClusterImpl(s, stats.root(), channels));
        }
        this.clusters = Collections.unmodifiableMap(byName);
        var cm = stats.root().scope("cluster_manager");
        this.activeClusters = cm.gauge("active_clusters");
        activeClusters.add(byName.size());
        cm.counter("cluster_added").add(byName.size());
        cm.gauge("warming_clusters");
    }

    /**
     * Resolves every DNS cluster once, waiting at most {@value #WARM_TIMEOUT_MILLIS} ms in all for those with
     * {@code wait_for_warm_on_init} (the default), then schedules re-resolution every {@code dns_refresh_rate}
     * ({@code dns_failure_refresh_rate} after a failure) on a daemon thread. Call once, on the main thread.
     */
    public synchronized void start() {
        if (dns != null || closed) {
            return;
        }
        List<ClusterImpl> dnsClusters = clusters.values().stream().filter(ClusterImpl::isDns).toList();
        AtomicInteger n = new AtomicInteger();
        ScheduledThreadPoolExecutor exec = new ScheduledThreadPoolExecutor(
                Math.max(1, Math.min(4, dnsClusters.size())), r -> {
                    Thread t = new Thread(r, "legate-dns-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        exec.setRemoveOnCancelPolicy(true);
        dns = exec;
        List<Future<Boolean>> first = new ArrayList<>();
        List<ClusterImpl> waited = new ArrayList<>();
        for (ClusterImpl c : dnsClusters) {
            Future<Boolean> f = exec.submit(() -> {
                boolean ok = safeRefresh(c);
                reschedule(c, ok);
                return ok;
            });
            if (c.settings.waitForWarm) {
                first.add(f);
                waited.add(c);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WARM_TIMEOUT_MILLIS);
        for (int i = 0; i < first.size(); i++) {
            try {
                first.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                log.warn("cluster {}: first DNS resolution still running after {} ms; starting without it",
                        waited.get(i).name(), WARM_TIMEOUT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                log.warn("cluster {}: first DNS resolution failed: {}", waited.get(i).name(), e.toString());
            }
        }
    }

    private boolean safeRefresh(ClusterImpl c) {
        try {
            return c.refreshDns();
        } catch (RuntimeException e) {
            log.warn("cluster {}: DNS refresh failed", c.name(), e);
            return false;
        }
    }

    private void reschedule(ClusterImpl c, boolean lastOk) {
        ScheduledExecutorService exec = dns;
        if (closed || exec == null || exec.isShutdown()) {
            return;
        }
        long delay = lastOk ? c.settings.dnsRefreshMillis : c.settings.dnsFailureRefreshMillis;
        try {
            exec.schedule(() -> reschedule(c, safeRefresh(c)), delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Stops DNS refreshes and closes every upstream connection of every loop. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (dns != null) {
            dns.shutdownNow();
        }
        clusters.values().forEach(ClusterImpl::close);
        channels.close();
        activeClusters.add(-clusters.size());
    }

    // ClusterManager

    @Override
    public UpstreamCluster cluster(String name) {
        return clusters.get(name);
    }

    @Override
    public Set<String> clusterNames() {
        return clusters.keySet();
    }

    /**
     * Admin {@code /clusters} in Envoy's text format ({@code source/server/admin/clusters_handler.cc}):
     * per cluster, in config order, {@code observability_name}, the circuit breakers of both priorities,
     * {@code added_via_api}, then per host its counters and gauges sorted by name and its attributes, one
     * {@code cluster::host::field::value} line each.
     */
    public String renderClustersText() {
        StringBuilder out = new StringBuilder(512);
        for (ClusterImpl c : clusters.values()) {
            String n = c.name();
            ClusterSettings s = c.settings;
            line(out, n, "observability_name", s.statName);
            thresholds(out, n, "default_priority", s.defaultThresholds);
            thresholds(out, n, "high_priority", s.highThresholds);
            line(out, n, "added_via_api", "false");
            for (HostImpl h : c.hostSet().all) {
                String p = n + "::" + h.addressString();
                line(out, p, "cx_active", h.cxActive.get());
                line(out, p, "cx_connect_fail", h.cxConnectFail.sum());
                line(out, p, "cx_total", h.cxTotal.sum());
                line(out, p, "rq_active", h.rqActive.get());
                line(out, p, "rq_error", h.rqError.sum());
                line(out, p, "rq_success", h.rqSuccess.sum());
                line(out, p, "rq_timeout", h.rqTimeout.sum());
                line(out, p, "rq_total", h.rqTotal.sum());
                line(out, p, "hostname", h.hostname());
                line(out, p, "health_flags", h.healthFlags());
                line(out, p, "weight", h.weight());
                Locality l = h.locality();
                line(out, p, "region", l.getRegion());
                line(out, p, "zone", l.getZone());
                line(out, p, "sub_zone", l.getSubZone());
                line(out, p, "canary", "false");
                line(out, p, "priority", h.priority());
                line(out, p, "success_rate", "-1");
                line(out, p, "local_origin_success_rate", "-1");
            }
        }
        return out.toString();
    }

    private static void thresholds(StringBuilder out, String n, String priority, ClusterSettings.Thresholds t) {
        String p = n + "::" + priority;
        line(out, p, "max_connections", t.maxConnections());
        line(out, p, "max_pending_requests", t.maxPendingRequests());
        line(out, p, "max_requests", t.maxRequests());
        line(out, p, "max_retries", t.maxRetries());
    }

    private static void line(StringBuilder out, String prefix, String field, Object value) {
        out.append(prefix).append("::").append(field).append("::").append(value).append('\n');
    }
}
