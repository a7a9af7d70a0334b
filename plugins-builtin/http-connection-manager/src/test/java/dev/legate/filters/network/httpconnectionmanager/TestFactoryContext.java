package dev.legate.filters.network.httpconnectionmanager;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.UpstreamCluster;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link FactoryContext} for config-tier tests: HTTP filters come from a name → terminal map (a missing
 * name fails like the host: "no plugin provides HTTP filter ..."), per-filter configs bind to their
 * {@code Any}, clusters are a set of names, and the HTTP service records the config it was given.
 */
public final class TestFactoryContext implements FactoryContext {

    /** What the test context recorded. */
    public static final class Recorder {
        public final List<String> filterStatsPrefixes = new ArrayList<>();
        public final List<String> accessLogPaths = new ArrayList<>();
        public final List<String> perFilterPaths = new ArrayList<>();
        public HttpConnectionManagerConfig connectionManager;
    }

    private final Map<String, Boolean> filters;
    private final Set<String> clusters;
    private final Stats stats;
    private final Recorder recorder;
    private final Path configDirectory;

    private TestFactoryContext(Map<String, Boolean> filters, Set<String> clusters, Stats stats, Recorder recorder,
                               Path configDirectory) {
        this.filters = filters;
        this.clusters = clusters;
        this.stats = stats;
        this.recorder = recorder;
        this.configDirectory = configDirectory;
    }

    /** Knows {@code envoy.filters.http.router} (terminal) and {@code legate.test.header} (not terminal). */
    public static TestFactoryContext create(String... clusterNames) {
        Map<String, Boolean> filters = new HashMap<>();
        filters.put("envoy.filters.http.router", true);
        filters.put("legate.test.header", false);
        return new TestFactoryContext(filters, Set.of(clusterNames), new MapStats(""), new Recorder(), Path.of("."));
    }

    public TestFactoryContext withConfigDirectory(Path dir) {
        return new TestFactoryContext(filters, clusters, stats, recorder, dir);
    }

    public Recorder recorder() {
        return recorder;
    }

    @Override
    public Stats stats() {
        return stats;
    }

    @Override
    public ClusterManager clusterManager() {
        return new ClusterManager() {
            @Override
            public UpstreamCluster cluster(String name) {
                return null;
            }

            @Override
            public Set<String> clusterNames() {
                return clusters;
            }
        };
    }

    @Override
    public HttpConnectionService http() {
        return config -> {
            recorder.connectionManager = config;
            return callbacks -> new dev.legate.api.network.NetworkFilter() { };
        };
    }

    @Override
    public HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path) {
        Boolean terminal = filters.get(name);
        if (terminal == null) {
            throw ConfigException.at(path + ".name", "no plugin provides HTTP filter " + name);
        }
        recorder.filterStatsPrefixes.add(stats.prefix());
        return new HttpFilterChainEntry(name, callbacks -> new HttpFilter() { }, terminal);
    }

    @Override
    public Object perFilterConfig(String filterName, Any config, String path) {
        if (!filters.containsKey(filterName)) {
            throw ConfigException.at(path, "no plugin provides HTTP filter " + filterName);
        }
        recorder.perFilterPaths.add(path);
        return config;
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> accessLogs, String path) {
        recorder.accessLogPaths.add(path);
        return AccessLogger.NONE;
    }

    @Override
    public String serviceNode() {
        return "node-1";
    }

    @Override
    public String serviceCluster() {
        return "cluster-1";
    }

    @Override
    public Path configDirectory() {
        return configDirectory;
    }

    @Override
    public boolean validateOnly() {
        return false;
    }

    @Override
    public FactoryContext withStats(Stats scope) {
        return new TestFactoryContext(filters, clusters, scope, recorder, configDirectory);
    }

    @Override
    public void onClose(AutoCloseable resource) {
    }

    /** Stats in a map, enough for prefixes. */
    static final class MapStats implements Stats {
        private final String prefix;
        private final Map<String, AtomicLong> values;

        MapStats(String prefix) {
            this(prefix, new ConcurrentHashMap<>());
        }

        private MapStats(String prefix, Map<String, AtomicLong> values) {
            this.prefix = prefix;
            this.values = values;
        }

        @Override
        public String prefix() {
            return prefix;
        }

        @Override
        public Stats scope(String name) {
            String p = prefix + name;
            return new MapStats(p.endsWith(".") ? p : p + ".", values);
        }

        private AtomicLong value(String name) {
            return values.computeIfAbsent(prefix + name, k -> new AtomicLong());
        }

        @Override
        public Counter counter(String name) {
            AtomicLong v = value(name);
            return new Counter() {
                @Override
                public void inc() {
                    v.incrementAndGet();
                }

                @Override
                public void add(long amount) {
                    v.addAndGet(amount);
                }

                @Override
                public long value() {
                    return v.get();
                }
            };
        }

        @Override
        public Gauge gauge(String name) {
            AtomicLong v = value(name);
            return new Gauge() {
                @Override
                public void inc() {
                    v.incrementAndGet();
                }

                @Override
                public void dec() {
                    v.decrementAndGet();
                }

                @Override
                public void add(long delta) {
                    v.addAndGet(delta);
                }

                @Override
                public void set(long value) {
                    v.set(value);
                }

                @Override
                public long value() {
                    return v.get();
                }
            };
        }

        @Override
        public Histogram histogram(String name) {
            return value -> { };
        }
    }
}
