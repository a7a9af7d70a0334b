package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link FactoryContext} for calling a factory's {@code create} in a test: real stats (the host's
 * {@link StatsStore}, read back with {@link #statsStore()}), a settable cluster manager (empty by default)
 * and access logger ({@link AccessLogger#NONE} by default; the {@code access_log} list it was asked for is
 * kept in {@link #accessLogRequests()}). Building nested HTTP filters ({@link #httpFilter},
 * {@link #perFilterConfig}) and the HTTP service need the real host: they throw
 * {@link UnsupportedOperationException} here. {@link #close()} runs the resources registered with
 * {@link #onClose}.
 */
public final class TestFactoryContext implements FactoryContext, AutoCloseable {

    /** An {@code accessLogger(list, path)} call. */
    public record AccessLogRequest(List<AccessLog> accessLogs, String path) {
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
        final List<AccessLogRequest> accessLogRequests = new ArrayList<>();
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

    /** The {@code accessLogger(list, path)} calls made so far. */
    public List<AccessLogRequest> accessLogRequests() {
        return List.copyOf(shared.accessLogRequests);
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

    @Override
    public HttpConnectionService http() {
        throw new UnsupportedOperationException("the HTTP service needs the real host (see host-core)");
    }

    @Override
    public HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path) {
        throw new UnsupportedOperationException("building nested HTTP filters needs the real host's plugin manager");
    }

    @Override
    public Object perFilterConfig(String filterName, Any config, String path) {
        throw new UnsupportedOperationException("binding per-filter config needs the real host's plugin manager");
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> accessLogs, String path) {
        shared.accessLogRequests.add(new AccessLogRequest(List.copyOf(accessLogs), path));
        return shared.accessLogger;
    }

    @Override
    public String serviceNode() {
        return "test-node";
    }

    @Override
    public String serviceCluster() {
        return "test-cluster";
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
