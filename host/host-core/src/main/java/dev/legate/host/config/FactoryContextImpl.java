package dev.legate.host.config;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.accesslog.AccessLogs;
import dev.legate.host.plugin.FilterRegistry;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's {@link FactoryContext}: what a factory gets while its config is bound. One shared part per server
 * load ({@link Shared}: registry, binder, clusters, HTTP service, node, config directory, closeables) and a
 * stats scope per context ({@link #withStats}). Main thread only.
 */
public final class FactoryContextImpl implements FactoryContext {

    /**
     * What every context of one load shares.
     *
     * @param filters        the filter factories
     * @param binder         binds {@code typed_config}
     * @param clusterManager the clusters of the config
     * @param http           the host's HTTP service (one per server)
     * @param serviceNode    {@code node.id} after {@code --service-node}
     * @param serviceCluster {@code node.cluster} after {@code --service-cluster}
     * @param configDirectory directory of the config file
     * @param validateOnly   {@code --mode validate}
     * @param closeables     where {@link #onClose} collects resources; the server closes them in reverse order
     */
    public record Shared(FilterRegistry filters, ConfigBinder binder, ClusterManager clusterManager,
                         HttpConnectionService http, String serviceNode, String serviceCluster,
                         Path configDirectory, boolean validateOnly, List<AutoCloseable> closeables) {
        public Shared {
            requireNonNull(filters, "filters");
            requireNonNull(binder, "binder");
            requireNonNull(closeables, "closeables");
        }
    }

    private final Shared shared;
    private final Stats stats;

    public FactoryContextImpl(Shared shared, Stats stats) {
        this.shared = requireNonNull(shared, "shared");
        this.stats = requireNonNull(stats, "stats");
    }

    /** The shared part. */
    public Shared shared() {
        return shared;
    }

    // FactoryContext

    @Override
    public Stats stats() {
        return stats;
    }

    @Override
    public ClusterManager clusterManager() {
        return shared.clusterManager();
    }

    @Override
    public HttpConnectionService http() {
        return shared.http();
    }

    @Override
    public HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path) {
        HttpFilterFactory<?> factory = shared.filters().httpFilter(name);
        if (factory == null) {
            factory = shared.filters().httpFilterForType(ConfigBinder.configTypeUrl(typedConfig));
        }
        if (factory == null) {
            throw ConfigException.at(path + ".name", "no plugin provides HTTP filter " + name + " (loaded: "
                    + String.join(", ", shared.filters().httpFilterNames()) + ")");
        }
        return new HttpFilterChainEntry(name, create(factory, typedConfig, path + ".typed_config"),
                factory.isTerminal());
    }

    private <C> HttpFilterInstaller create(HttpFilterFactory<C> factory, Any typedConfig, String path) {
        C config = shared.binder().bind(factory.configType(), typedConfig, factory.name(), path);
        String under = factory.configType().isProto() ? path : path + ".value";
        HttpFilterInstaller installer;
        try {
            installer = factory.create(config, this);
        } catch (ConfigException e) {
            throw e.under(under);
        }
        if (installer == null) {
            throw ConfigException.at(path, "filter " + factory.name() + " returned no installer");
        }
        return installer;
    }

    @Override
    public Object perFilterConfig(String filterName, Any config, String path) {
        HttpFilterFactory<?> factory = shared.filters().httpFilter(filterName);
        if (factory == null) {
            throw ConfigException.at(path, "no plugin provides HTTP filter " + filterName);
        }
        ConfigType<?> type = factory.perRouteConfigType();
        if (type == null) {
            throw ConfigException.at(path, "filter " + filterName + " takes no per-route config");
        }
        Object bound = shared.binder().bind(type, config, filterName, path);
        try {
            return factory.createRouteSpecificConfig(bound, this);
        } catch (ConfigException e) {
            throw e.under(path);
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            // A plugin's bug (or an unchecked error it did not translate) still names the entry.
            ConfigException wrapped = ConfigException.at(path, e.toString());
            wrapped.initCause(e);
            throw wrapped;
        }
    }

    @Override
    public AccessLogger accessLogger(List<AccessLog> accessLogs, String path) {
        if (accessLogs == null || accessLogs.isEmpty()) {
            return AccessLogger.NONE;
        }
        return AccessLogs.create(accessLogs, path, shared.configDirectory());
    }

    @Override
    public String serviceNode() {
        return shared.serviceNode();
    }

    @Override
    public String serviceCluster() {
        return shared.serviceCluster();
    }

    @Override
    public Path configDirectory() {
        return shared.configDirectory();
    }

    @Override
    public boolean validateOnly() {
        return shared.validateOnly();
    }

    @Override
    public FactoryContext withStats(Stats scope) {
        return new FactoryContextImpl(shared, requireNonNull(scope, "scope"));
    }

    @Override
    public void onClose(AutoCloseable resource) {
        shared.closeables().add(requireNonNull(resource, "resource"));
    }

    /** A fresh list for {@link Shared#closeables()}. */
    public static List<AutoCloseable> newCloseables() {
        return new ArrayList<>();
    }
}
