package dev.legate.host.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.legate.api.ConfigException;
import dev.legate.host.Server;
import dev.legate.host.ServerOptions;
import dev.legate.host.listener.ListenerBindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code legate} command: Envoy's command line where Envoy has the flag ({@code source/server/options_impl.cc}),
 * plus {@code --plugins-dir}.
 *
 * <p>Exit codes: 0 after a clean shutdown or a valid {@code --mode validate}; 1 when the config cannot be run
 * or a socket cannot be bound — with one line naming the file and field, never a Java stack trace; 2 for a bad
 * command line.
 */
@Command(name = "legate", mixinStandardHelpOptions = true, version = "legate 0.1.0",
        description = "An Envoy-compatible L4/L7 proxy for the JVM. With no config it serves configs/quickstart.yaml.")
public final class Main implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(Main.class);

    @Option(names = {"-c", "--config-path"}, paramLabel = "FILE",
            description = "Envoy v3 bootstrap (.yaml, .yml, .json).")
    Path configPath;

    @Option(names = "--config-yaml", paramLabel = "YAML", description = "Bootstrap YAML merged over --config-path.")
    String configYaml;

    @Option(names = "--mode", paramLabel = "serve|validate", defaultValue = "serve",
            description = "serve (default), or validate: build everything, bind nothing, exit.")
    String mode;

    @Option(names = "--concurrency", paramLabel = "N", description = "Worker event loops (default: cores).")
    int concurrency;

    @Option(names = {"-l", "--log-level"}, paramLabel = "LEVEL", defaultValue = "info",
            description = "trace, debug, info, warning|warn, error, critical, off.")
    String logLevel;

    @Option(names = "--service-node", paramLabel = "ID", description = "Overrides node.id.")
    String serviceNode;

    @Option(names = "--service-cluster", paramLabel = "NAME", description = "Overrides node.cluster.")
    String serviceCluster;

    @Option(names = "--drain-time-s", paramLabel = "SECONDS", defaultValue = "600",
            description = "How long shutdown waits for connections to finish (default 600).")
    int drainTimeSeconds;

    @Option(names = "--plugins-dir", paramLabel = "DIR", defaultValue = "plugins",
            description = "Folder of plugin jars (default ./plugins).")
    Path pluginsDir;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command and returns its exit code (for tests). */
    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        configureLogging(logLevel);
        ServerOptions.Mode m;
        try {
            m = ServerOptions.Mode.valueOf(mode.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("legate: --mode " + mode + " (expected: serve or validate)");
            return 2;
        }
        if (configPath == null && configYaml == null) {
            configPath = defaultConfig();
        }
        if (drainTimeSeconds < 0) {
            System.err.println("legate: --drain-time-s " + drainTimeSeconds + " (expected: >= 0)");
            return 2;
        }
        ServerOptions options = ServerOptions.builder()
                .configPath(configPath).configYaml(configYaml).mode(m).concurrency(concurrency)
                .logLevel(logLevel).serviceNode(serviceNode).serviceCluster(serviceCluster)
                .drainTimeSeconds(drainTimeSeconds).pluginsDirs(pluginDirs()).build();
        String what = configPath != null ? configPath.toString() : "--config-yaml";
        try {
            if (m == ServerOptions.Mode.VALIDATE) {
                Server.validate(options);
                System.out.println("configuration '" + what + "' OK");
                return 0;
            }
            Server server = Server.start(options);
            // SIGTERM/SIGINT exit at once, as Envoy does; --drain-time-s bounds graceful drains (Server#close()).
            Runtime.getRuntime().addShutdownHook(new Thread(() -> server.close(Duration.ZERO), "legate-shutdown"));
            server.awaitTermination();
            return 0;
        } catch (ConfigException | ListenerBindException e) {
            // Envoy: "error initializing configuration '<path>': <reason>", exit non-zero, no partial start.
            String reason = e.getMessage();
            if (reason.startsWith(what + ": ")) {
                reason = reason.substring(what.length() + 2);  // the loader names the file first; say it once
            }
            System.err.println("error initializing configuration '" + what + "': " + reason);
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The distribution's built-in plugins, then the user's folder. */
    private List<Path> pluginDirs() {
        List<Path> dirs = new ArrayList<>();
        String builtin = System.getProperty("legate.builtinPlugins");
        if (builtin != null) {
            dirs.add(Path.of(builtin));
        }
        dirs.add(pluginsDir);
        return dirs;
    }

    private static Path defaultConfig() {
        Path home = Path.of(System.getProperty("legate.home", "."));
        Path quickstart = home.resolve("configs/quickstart.yaml");
        return Files.exists(quickstart) ? quickstart : Path.of("configs/quickstart.yaml");
    }

    /** Maps Envoy's level names onto the root logger. */
    static void configureLogging(String level) {
        Level l = switch (level.toLowerCase(Locale.ROOT)) {
            case "trace" -> Level.TRACE;
            case "debug" -> Level.DEBUG;
            case "info" -> Level.INFO;
            case "warning", "warn" -> Level.WARN;
            case "error", "critical" -> Level.ERROR;
            case "off" -> Level.OFF;
            default -> {
                System.err.println("legate: unknown --log-level " + level + ", using info");
                yield Level.INFO;
            }
        };
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(l);
        }
        log.debug("log level {}", l);
    }
}
