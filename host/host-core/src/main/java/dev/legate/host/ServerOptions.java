package dev.legate.host;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the command line (or a test) asks of a {@link Server}; Envoy's CLI names where one exists.
 *
 * @param configPath       {@code -c/--config-path}: a {@code .yaml}, {@code .yml} or {@code .json} bootstrap, or
 *                         {@code null}
 * @param configYaml       {@code --config-yaml}: YAML merged on top of the file, or {@code null}
 * @param mode             {@code --mode serve|validate}
 * @param concurrency      {@code --concurrency}: worker event loops, ≥ 1
 * @param logLevel         {@code -l/--log-level}, informational here (the CLI configures logging)
 * @param serviceNode      {@code --service-node}: overrides {@code node.id}, or {@code null}
 * @param serviceCluster   {@code --service-cluster}: overrides {@code node.cluster}, or {@code null}
 * @param drainTimeSeconds {@code --drain-time-s}: how long {@link Server#close()} waits for open connections
 *                         to end before closing them
 * @param pluginsDirs      plugin folders in load order: the distribution's {@code plugins-builtin/}, then
 *                         {@code --plugins-dir}; missing folders are skipped with a log line
 * @param extraFactories   filter factories given directly (no PF4J), e.g. by tests: {@code NetworkFilterFactory}
 *                         and/or {@code HttpFilterFactory} instances, registered as from the application
 */
public record ServerOptions(Path configPath, String configYaml, Mode mode, int concurrency, String logLevel,
                            String serviceNode, String serviceCluster, int drainTimeSeconds,
                            List<Path> pluginsDirs, List<Object> extraFactories) {

    /** {@code --mode}. */
    public enum Mode {
        /** Run: bind listeners and the admin listener. */
        SERVE,
        /** Parse and build everything, bind nothing, then return (Envoy's {@code --mode validate}). */
        VALIDATE
    }

    public ServerOptions {
        mode = mode == null ? Mode.SERVE : mode;
        if (concurrency <= 0) {
            concurrency = Runtime.getRuntime().availableProcessors();
        }
        logLevel = logLevel == null ? "info" : logLevel;
        if (drainTimeSeconds < 0) {
            throw new IllegalArgumentException("drainTimeSeconds: " + drainTimeSeconds + " (expected: >= 0)");
        }
        pluginsDirs = pluginsDirs == null ? List.of() : List.copyOf(pluginsDirs);
        extraFactories = extraFactories == null ? List.of() : List.copyOf(extraFactories);
    }

    /** A builder with Envoy's CLI defaults, except {@code drainTimeSeconds} = 0 (close at once; the CLI passes 600). */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The options by Envoy's {@code admin.v3.CommandLineOptions} field names, for {@code /server_info}.
     */
    public Map<String, Object> commandLineOptions() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("config_path", configPath == null ? "" : configPath.toString());
        m.put("config_yaml", configYaml == null ? "" : configYaml);
        m.put("mode", mode.name().toLowerCase(Locale.ROOT));
        m.put("concurrency", concurrency);
        m.put("log_level", logLevel);
        m.put("service_node", serviceNode == null ? "" : serviceNode);
        m.put("service_cluster", serviceCluster == null ? "" : serviceCluster);
        m.put("drain_time", drainTimeSeconds);
        m.put("plugins_dirs", pluginsDirs.stream().map(Path::toString).toList());
        return m;
    }

    /** Fluent construction of {@link ServerOptions}. */
    public static final class Builder {
        private Path configPath;
        private String configYaml;
        private Mode mode = Mode.SERVE;
        private int concurrency;
        private String logLevel = "info";
        private String serviceNode;
        private String serviceCluster;
        private int drainTimeSeconds;
        private final List<Path> pluginsDirs = new ArrayList<>();
        private final List<Object> extraFactories = new ArrayList<>();

        private Builder() {
        }

        public Builder configPath(Path configPath) {
            this.configPath = configPath;
            return this;
        }

        public Builder configYaml(String configYaml) {
            this.configYaml = configYaml;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = mode;
            return this;
        }

        /** Worker event loops; 0 or less means one per core. */
        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        public Builder logLevel(String logLevel) {
            this.logLevel = logLevel;
            return this;
        }

        public Builder serviceNode(String serviceNode) {
            this.serviceNode = serviceNode;
            return this;
        }

        public Builder serviceCluster(String serviceCluster) {
            this.serviceCluster = serviceCluster;
            return this;
        }

        public Builder drainTimeSeconds(int drainTimeSeconds) {
            this.drainTimeSeconds = drainTimeSeconds;
            return this;
        }

        /** Adds a plugin folder (order matters for messages only). */
        public Builder pluginsDir(Path dir) {
            pluginsDirs.add(dir);
            return this;
        }

        public Builder pluginsDirs(List<Path> dirs) {
            pluginsDirs.addAll(dirs);
            return this;
        }

        /** Adds a factory registered without PF4J. */
        public Builder extraFactory(Object factory) {
            extraFactories.add(factory);
            return this;
        }

        public Builder extraFactories(List<?> factories) {
            extraFactories.addAll(factories);
            return this;
        }

        public ServerOptions build() {
            return new ServerOptions(configPath, configYaml, mode, concurrency, logLevel, serviceNode,
                    serviceCluster, drainTimeSeconds, pluginsDirs, extraFactories);
        }
    }
}
