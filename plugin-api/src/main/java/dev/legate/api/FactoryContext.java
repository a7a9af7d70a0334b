package dev.legate.api;

import com.google.protobuf.Any;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import java.nio.file.Path;
import java.util.List;

/**
 * What the host hands a factory when it binds a config: the host's services, never its internals (PF4J
 * demo's context object). Valid while the listener lives; methods are called on the main thread.
 */
public interface FactoryContext {

    /** The root stats scope. */
    Stats stats();

    /** The clusters of the config being loaded (to check names at load time and to reach pools). */
    ClusterManager clusterManager();

    /** The host's HTTP codecs and stream machinery; used by the HTTP connection manager. */
    HttpConnectionService http();

    /**
     * Builds one {@code http_filters} entry: finds the factory by {@code name} (and checks the
     * {@code @type}), binds {@code typedConfig} and calls its {@code create}.
     *
     * @param path where the entry sits, for errors: {@code http_filters[2]}
     * @throws ConfigException when no plugin provides the filter, or the config is bad
     */
    HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path);

    /**
     * Binds a {@code typed_per_filter_config} entry with the per-route type of the filter named
     * {@code filterName}.
     *
     * @throws ConfigException when no filter of that name takes per-route config, or it is bad
     */
    Object perFilterConfig(String filterName, Any config, String path);

    /** Builds the loggers of an {@code access_log} list. */
    AccessLogger accessLogger(List<AccessLog> accessLogs, String path);

    /** {@code --service-node} / {@code node.id}. */
    String serviceNode();

    /** {@code --service-cluster} / {@code node.cluster}. */
    String serviceCluster();

    /** The directory of the config file, against which relative file names resolve. */
    Path configDirectory();

    /** Whether this is {@code --mode validate}: build everything, open no port, start nothing. */
    boolean validateOnly();

    /**
     * The same context with {@link #stats()} rooted at {@code scope}. The HTTP connection manager builds its
     * {@code http_filters} through {@code withStats(stats().scope("http." + statPrefix))}, so that HTTP filters
     * count under {@code http.<stat_prefix>.} as in Envoy (e.g. the router's {@code no_route}).
     */
    FactoryContext withStats(Stats scope);

    /** Runs {@code resource.close()} when the listener that owns this config is closed. */
    void onClose(AutoCloseable resource);
}
