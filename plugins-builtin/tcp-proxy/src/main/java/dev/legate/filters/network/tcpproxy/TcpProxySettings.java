package dev.legate.filters.network.tcpproxy;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound {@code TcpProxy} config: immutable, shared by every event loop of the listener.
 *
 * <p>Fields Legate runs: {@code stat_prefix}, {@code cluster} / {@code weighted_clusters} (picked per
 * connection by weight), {@code idle_timeout} (unset: 1 h; {@code 0s}: disabled), {@code access_log}
 * (one entry when the connection ends) and {@code max_connect_attempts} (default 1). Fields whose absence
 * changes nothing Legate does are accepted with a WARN naming them; every other set field is a
 * {@link ConfigException} {@code <field>: not supported yet}. A cluster that does not exist is accepted, as
 * in Envoy: each connection then fails with {@code downstream_cx_no_route} (flag {@code NR}).
 *
 * <p>Thread-safe: immutable; {@link #pickCluster()} uses {@link ThreadLocalRandom}.
 */
public final class TcpProxySettings {

    private static final Logger log = LoggerFactory.getLogger(TcpProxySettings.class);

    /** Envoy's default {@code idle_timeout}: one hour. */
    public static final long DEFAULT_IDLE_TIMEOUT_MILLIS = 60 * 60 * 1000L;

    private static final Set<String> SUPPORTED = Set.of(
            "stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "access_log", "max_connect_attempts");

    /** Fields accepted with a warning, and why ignoring them is harmless. */
    private static final Map<String, String> IGNORED = Map.of(
            "downstream_idle_timeout", "not implemented (Envoy does not implement it either); use idle_timeout",
            "upstream_idle_timeout", "not implemented (Envoy does not implement it either); use idle_timeout",
            "access_log_options", "the access log is written once, when the connection ends",
            "access_log_flush_interval", "the access log is written once, when the connection ends",
            "flush_access_log_on_connected", "the access log is written once, when the connection ends",
            "backoff_options", "connect attempts are retried without back-off",
            "proxy_protocol_tlvs", "Legate has no PROXY protocol upstream transport socket to send them");

    private final String statPrefix;
    private final List<String> clusterNames;
    private final long[] cumulativeWeights;
    private final long idleTimeoutMillis;
    private final int maxConnectAttempts;
    private final AccessLogger accessLogger;
    private final TcpProxyStats stats;

    private TcpProxySettings(String statPrefix, List<String> clusterNames, long[] cumulativeWeights,
                             long idleTimeoutMillis, int maxConnectAttempts, AccessLogger accessLogger,
                             TcpProxyStats stats) {
        this.statPrefix = statPrefix;
        this.clusterNames = List.copyOf(clusterNames);
        this.cumulativeWeights = cumulativeWeights.clone();
        this.idleTimeoutMillis = idleTimeoutMillis;
        this.maxConnectAttempts = maxConnectAttempts;
        this.accessLogger = accessLogger;
        this.stats = stats;
    }

    /** {@code stat_prefix}. */
    public String statPrefix() {
        return statPrefix;
    }

    /** The cluster, or the weighted clusters in config order. */
    public List<String> clusterNames() {
        return clusterNames;
    }

    /** {@code idle_timeout} in milliseconds; 0 when disabled. */
    public long idleTimeoutMillis() {
        return idleTimeoutMillis;
    }

    /** {@code max_connect_attempts}, at least 1. */
    public int maxConnectAttempts() {
        return maxConnectAttempts;
    }

    AccessLogger accessLogger() {
        return accessLogger;
    }

    TcpProxyStats stats() {
        return stats;
    }

    /**
     * Checks and binds {@code config}, on the main thread.
     *
     * @throws ConfigException naming the first field of {@code config} that Legate cannot run
     */
    public static TcpProxySettings from(TcpProxy config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        checkFields(config);

        if (config.getStatPrefix().isEmpty()) {
            throw ConfigException.at("stat_prefix", "\"\" (expected: a non-empty string)");
        }

        List<String> names;
        long[] cumulative;
        switch (config.getClusterSpecifierCase()) {
            case CLUSTER -> {
                if (config.getCluster().isEmpty()) {
                    throw ConfigException.at("cluster", "\"\" (expected: a non-empty cluster name)");
                }
                names = List.of(config.getCluster());
                cumulative = new long[] {1};
            }
            case WEIGHTED_CLUSTERS -> {
                List<ClusterWeight> clusters = config.getWeightedClusters().getClustersList();
                if (clusters.isEmpty()) {
                    throw ConfigException.at("weighted_clusters.clusters", "[] (expected: at least one cluster)");
                }
                String[] n = new String[clusters.size()];
                cumulative = new long[clusters.size()];
                long sum = 0;
                for (int i = 0; i < clusters.size(); i++) {
                    ClusterWeight cw = clusters.get(i);
                    String path = "weighted_clusters.clusters[" + i + "]";
                    if (cw.hasMetadataMatch()) {
                        throw ConfigException.at(path + ".metadata_match", "not supported yet");
                    }
                    if (cw.getName().isEmpty()) {
                        throw ConfigException.at(path + ".name", "\"\" (expected: a non-empty cluster name)");
                    }
                    if (cw.getWeight() < 1) {
                        throw ConfigException.at(path + ".weight", Integer.toUnsignedString(cw.getWeight())
                                + " (expected: >= 1)");
                    }
                    n[i] = cw.getName();
                    sum += Integer.toUnsignedLong(cw.getWeight());
                    cumulative[i] = sum;
                }
                names = List.of(n);
            }
            default -> throw ConfigException.at("cluster_specifier",
                    "not set (expected: cluster or weighted_clusters)");
        }

        long idle = DEFAULT_IDLE_TIMEOUT_MILLIS;
        if (config.hasIdleTimeout()) {
            idle = toMillis(config.getIdleTimeout(), "idle_timeout");
        }

        int attempts = 1;
        if (config.hasMaxConnectAttempts()) {
            int v = config.getMaxConnectAttempts().getValue();
            if (v < 1) {
                throw ConfigException.at("max_connect_attempts", Integer.toUnsignedString(v) + " (expected: >= 1)");
            }
            attempts = v;
        }

        AccessLogger logger = config.getAccessLogCount() == 0
                ? AccessLogger.NONE
                : requireNonNull(context.accessLogger(config.getAccessLogList(), "access_log"), "accessLogger");

        return new TcpProxySettings(config.getStatPrefix(), names, cumulative, idle, attempts, logger,
                TcpProxyStats.create(context.stats(), config.getStatPrefix()));
    }

    /** Rejects set fields that would change behaviour, warns about harmless ones. */
    private static void checkFields(TcpProxy config) {
        for (FieldDescriptor f : config.getAllFields().keySet()) {
            String name = f.getName();
            if (SUPPORTED.contains(name)) {
                continue;
            }
            String why = IGNORED.get(name);
            if (why != null) {
                log.warn("envoy.filters.network.tcp_proxy: {} is ignored: {}", name, why);
                continue;
            }
            throw ConfigException.at(name, "not supported yet");
        }
    }

    private static long toMillis(Duration d, String path) {
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw ConfigException.at(path, d.getSeconds() + "s " + d.getNanos() + "ns (expected: >= 0s)");
        }
        long millis = Math.multiplyExact(d.getSeconds(), 1000L) + d.getNanos() / 1_000_000;
        if (millis == 0 && d.getNanos() > 0) {
            millis = 1; // a positive timeout below 1 ms does not disable it
        }
        return millis;
    }

    /** The cluster for a new connection: the configured one, or a pick with probability weight / sum. */
    String pickCluster() {
        if (clusterNames.size() == 1) {
            return clusterNames.get(0);
        }
        long r = ThreadLocalRandom.current().nextLong(cumulativeWeights[cumulativeWeights.length - 1]);
        for (int i = 0; i < cumulativeWeights.length; i++) {
            if (r < cumulativeWeights[i]) {
                return clusterNames.get(i);
            }
        }
        return clusterNames.get(clusterNames.size() - 1);
    }

    /** Whether {@code idle_timeout} is on. */
    boolean idleTimeoutEnabled() {
        return idleTimeoutMillis > 0;
    }
}
