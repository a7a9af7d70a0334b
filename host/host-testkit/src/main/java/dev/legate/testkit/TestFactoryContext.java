package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link FactoryContext} for calling a factory's {@code create} in a test: real stats (the host's
 * {@link StatsStore}, read back with {@link #statsStore()}), a settable cluster manager (empty by default)
 * and access logger ({@link AccessLogger#NONE} by default; the {@code access_log} list it was asked for is
 * kept in {@link #accessLogRequests()}). {@link #close()} runs the resources registered with
 * {@link #onClose}.
 *
 * <p>For a factory that builds an HTTP filter chain (an HTTP connection manager), the test registers the
 * chain entries the context hands out by name ({@link #httpFilter(HttpFilterChainEntry)}) and the
 * {@link HttpConnectionService} it stands in for ({@link #httpService}). An unregistered name fails as in
 * the host, with {@code "no plugin provides HTTP filter <name>"} at the field's path; per-filter configs of
 * registered filters are returned as the {@link Any} given, unbound. The calls are kept in
 * {@link #httpFilterRequests()} and {@link #perFilterConfigRequests()}. Without an HTTP service,
 * {@link #http()} throws {@link UnsupportedOperationException}.
 *
 * <pre>{@code
 * TestFactoryContext ctx = new TestFactoryContext()
 *         .httpFilter(new HttpFilterChainEntry("envoy.filters.http.router", callbacks -> new HttpFilter() { }, true));
 * }</pre>
 */
public final class TestFactoryContext implements FactoryContext, AutoCloseable {

    /** An {@code accessLogger(list, path)} call. */
    public record AccessLogRequest(List<AccessLog> accessLogs, String path) {
    }

    /** An {@code httpFilter(name, typedConfig, path)} call, with the prefix of the stats it was made under. */
    public record HttpFilterRequest(String name, Any typedConfig, String path, String statsPrefix) {
    }

    /** A {@code perFilterConfig(filterName, config, path)} call. */
    public record PerFilterConfigRequest(String filterName, Any config, String path) {
    }

    private static final ClusterManager EMPTY = new ClusterManager() {
        @Override
        public dev.legate.api.upstream.UpstreamCluster cluster(String name) {
            return null;
        }

        @Override
        public Set<String> clusterNames() {
            return Set.of();
        }
    };

    private final StatsStore store;
    private final Stats stats;
    private final Shared shared;

    /** A context over a fresh {@link StatsStore}. */
    public TestFactoryContext() {
        this(new StatsStore());
    }

    /** A context over {@code store}. */
    public TestFactoryContext(StatsStore store) {
        this(store, store.root(), new Shared());
    }

    private TestFactoryContext(StatsStore store, Stats stats, Shared shared) {
        this.store = requireNonNull(store, "store");
        this.stats = requireNonNull(stats, "stats");
        this.shared = shared;
    }

    private static final class Shared {
        ClusterManager clusterManager = EMPTY;
        AccessLogger accessLogger = AccessLogger.NONE;
        boolean validateOnly;
        Path configDirectory = Path.of(".").toAbsolutePath().normalize();
        String serviceNode = "test-node";
        String serviceCluster = "test-cluster";
        HttpConnectionService httpService;
        final Map<String, HttpFilterChainEntry> httpFilters = new LinkedHashMap<>();
        final List<AccessLogRequest> accessLogRequests = new ArrayList<>();
        final List<HttpFilterRequest> httpFilterRequests = new ArrayList<>();
        final List<PerFilterConfigRequest> perFilterConfigRequests = new ArrayList<>();
        final List<AutoCloseable> closeables = new ArrayList<>();
    }

    // Test controls

    /** The store behind {@link #stats()}: {@code statsStore().counter("tcp.x.downstream_cx_total")}. */
    public StatsStore statsStore() {
        return store;
    }

    public TestFactoryContext clusterManager(ClusterManager clusterManager) {
        shared.clusterManager = requireNonNull(clusterManager, "clusterManager");
        return this;
    }

    /** The logger every {@link #accessLogger} call returns. */
    public TestFactoryContext accessLogger(AccessLogger logger) {
        shared.accessLogger = requireNonNull(logger, "logger");
        return this;
    }

    public TestFactoryContext validateOnly(boolean validateOnly) {
        shared.validateOnly = validateOnly;
        return this;
    }

    public TestFactoryContext configDirectory(Path dir) {
        shared.configDirectory = requireNonNull(dir, "dir");
        return this;
    }

    /** What {@link #serviceNode()} returns ({@code test-node} by default). */
    public TestFactoryContext serviceNode(String node) {
        shared.serviceNode = requireNonNull(node, "node");
        return this;
    }

    /** What {@link #serviceCluster()} returns ({@code test-cluster} by default). */
    public TestFactoryContext serviceCluster(String cluster) {
        shared.serviceCluster = requireNonNull(cluster, "cluster");
        return this;
    }

    /** The service {@link #http()} returns. */
    public TestFactoryContext httpService(HttpConnectionService service) {
        shared.httpService = requireNonNull(service, "service");
        return this;
    }

    /**
     * Registers the entry {@link #httpFilter(String, Any, String)} returns for {@code entry.name()}, whatever
     * the typed config; a second entry of the same name replaces the first.
     */
    public TestFactoryContext httpFilter(HttpFilterChainEntry entry) {
        requireNonNull(entry, "entry");
        shared.httpFilters.put(entry.name(), entry);
        return this;
    }

    /** The {@code accessLogger(list, path)} calls made so far. */
    public List<AccessLogRequest> accessLogRequests() {
        return List.copyOf(shared.accessLogRequests);
    }

    /** The {@code httpFilter(name, typedConfig, path)} calls made so far, failed ones included. */
    public List<HttpFilterRequest> httpFilterRequests() {
        return List.copyOf(shared.httpFilterRequests);
    }

    /** The {@code perFilterConfig(filterName, config, path)} calls made so far, failed ones included. */
    public List<PerFilterConfigRequest> perFilterConfigRequests() {
        return List.copyOf(shared.perFilterConfigRequests);
    }

    /**
     * Closes what was registered with {@link #onClose}, in reverse order, each once.
     *
     * @throws IllegalStateException when one failed (the others are still closed; later failures suppressed)
     */
    @Override
    public void close() {
        IllegalStateException failure = null;
        for (int i = shared.closeables.size() - 1; i >= 0; i--) {
            try {
                shared.closeables.get(i).close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (failure == null) {
                    failure = new IllegalStateException("closing a resource registered with onClose failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        shared.closeables.clear();
        if (failure != null) {
            throw failure;
        }
    }

    // FactoryContext

    @Override
    public Stats stats() {
        return stats;
    }

    @Override
    public ClusterManager clusterManager() {
        return shared.clusterManager;
    }

    /** The service set with {@link #httpService}. */
    @Override
    public HttpConnectionService http() {
        if (shared.httpService == null) {
            throw new UnsupportedOperationException("no HTTP service: set one with httpService(...)"
                    + " (the real one needs the host, see host-core)");
        }
        return shared.httpService;
    }

    /**
     * The entry registered for {@code name} with {@link #httpFilter(HttpFilterChainEntry)}.
     *
     * @throws ConfigException at {@code path + ".name"} when none is
     */
    @Override
    public HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path) {
        shared.httpFilterRequests.add(new HttpFilterRequest(name, typedConfig, path, stats.prefix()));
        HttpFilterChainEntry entry = shared.httpFilters.get(name);
        if (entry == null) {
            throw ConfigException.at(path + ".name", "no plugin provides HTTP filter " + name);
        }
        return entry;
    }

    /**
     * {@code config} itself, unbound, when {@code filterName} was registered with
     * {@link #httpFilter(HttpFilterChainEntry)}.
     *
     * @throws ConfigException at {@code path} when it was not
     */
    @Override
    public Object perFilterConfig(String filterName, Any config, String path) {
        shared.perFilterConfigRequests.add(new PerFilterConfigRequest(filterName, config, path));
        if (!shared.httpFilters.containsKey(filterName)) {
            throw ConfigException.at(path, "no plugin provides HTTP filter " + filterName);
        }
        return config;
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> accessLogs, String path) {
        shared.accessLogRequests.add(new AccessLogRequest(List.copyOf(accessLogs), path));
        return shared.accessLogger;
    }

    @Override
    public String serviceNode() {
        return shared.serviceNode;
    }

    @Override
    public String serviceCluster() {
        return shared.serviceCluster;
    }

    @Override
    public Path configDirectory() {
        return shared.configDirectory;
    }

    @Override
    public boolean validateOnly() {
        return shared.validateOnly;
    }

    @Override
    public FactoryContext withStats(Stats scope) {
        return new TestFactoryContext(store, scope, shared);
    }

    @Override
    public void onClose(AutoCloseable resource) {
        shared.closeables.add(requireNonNull(resource, "resource"));
    }
}
