package dev.legate.host;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import dev.legate.api.ConfigException;
import dev.legate.api.stats.Gauge;
import dev.legate.host.admin.AdminContext;
import dev.legate.host.admin.AdminServer;
import dev.legate.host.admin.ListenerInfo;
import dev.legate.host.admin.PluginInfo;
import dev.legate.host.config.BootstrapChecks;
import dev.legate.host.config.BootstrapLoader;
import dev.legate.host.config.ConfigBinder;
import dev.legate.host.config.ConfigTypeRegistry;
import dev.legate.host.config.FactoryContextImpl;
import dev.legate.host.event.Transports;
import dev.legate.host.http.HttpConnectionServiceImpl;
import dev.legate.host.listener.ListenerManager;
import dev.legate.host.plugin.PluginHost;
import dev.legate.host.stats.StatsStore;
import dev.legate.host.upstream.ClusterManagerImpl;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Legate server (Envoy's {@code Server::InstanceImpl}).
 *
 * <p>{@link #start} goes in this order: plugins (PF4J over {@code pluginsDirs}, plus
 * {@code extraFactories}) → filter registry and type registry → bootstrap (file and/or {@code --config-yaml})
 * → checks of fields not implemented yet → node ({@code --service-node}/{@code --service-cluster}) → stats →
 * boss (1 thread) and worker ({@code concurrency}) event loops → cluster manager → every listener built (every
 * filter config bound) → cluster manager started → listeners bound → admin listener (when {@code admin.address}
 * is set) → {@code LIVE}. Any failure closes what was started and throws: no partial start.
 *
 * <p>Errors: {@link ConfigException} for the config (message starts with the file, then the field's path),
 * {@link dev.legate.host.listener.ListenerBindException} when a socket cannot be bound. Neither needs a stack
 * trace to be understood: the CLI prints the message.
 *
 * <p>Thread-safe: {@link #close()} may be called from any thread, once or more.
 */
public final class Server implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Server.class);

    private final ServerOptions options;
    private final PluginHost plugins;
    private final TypeRegistry types;
    private final Bootstrap bootstrap;
    private final Node node;
    private final List<String> warnings;
    private final StatsStore stats;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final ClusterManagerImpl clusterManager;
    private final ListenerManager listeners;
    private final List<AutoCloseable> closeables;
    private final long startNanos = System.nanoTime();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final Gauge liveGauge;
    private final Gauge stateGauge;
    private final Gauge uptimeGauge;
    private volatile AdminServer admin;
    private volatile InetSocketAddress adminAddress;
    private volatile boolean healthCheckFailed;
    private volatile boolean closing;
    private ScheduledFuture<?> uptimeTask;

    private Server(Built b) {
        this.options = b.options;
        this.plugins = b.plugins;
        this.types = b.types;
        this.bootstrap = b.bootstrap;
        this.node = b.node;
        this.warnings = List.copyOf(b.warnings);
        this.stats = b.stats;
        this.boss = b.boss;
        this.workers = b.workers;
        this.clusterManager = b.clusterManager;
        this.listeners = b.listeners;
        this.closeables = b.closeables;
        this.liveGauge = stats.root().gauge("server.live");
        this.stateGauge = stats.root().gauge("server.state");
        this.uptimeGauge = stats.root().gauge("server.uptime");
        stats.root().gauge("server.concurrency").set(options.concurrency());
    }

    /**
     * Starts a server.
     *
     * @throws ConfigException when the plugins or the config cannot be run
     * @throws dev.legate.host.listener.ListenerBindException when a listener cannot bind
     */
    public static Server start(ServerOptions options) {
        requireNonNull(options, "options");
        Built b = Built.build(options, false);
        Server server = null;
        try {
            b.clusterManager.start();
            b.listeners.bind(b.boss, b.workers, b.stats.root(), b.clusterManager);
            server = new Server(b);
            if (b.bootstrap.hasAdmin() && b.bootstrap.getAdmin().hasAddress()) {
                InetSocketAddress adminAddr = ListenerManager.toAddress(
                        b.bootstrap.getAdmin().getAddress().getSocketAddress(), "admin.address.socket_address");
                AdminServer a = new AdminServer(adminAddr, server.adminContext());
                server.admin = a;
                try {
                    server.adminAddress = a.start();
                } catch (RuntimeException e) {
                    throw new dev.legate.host.listener.ListenerBindException("admin: cannot bind "
                            + ListenerManager.hostPort(adminAddr) + ": " + rootMessage(e), e);
                }
                log.info("Admin listener on {}", ListenerManager.hostPort(server.adminAddress));
            }
            server.markLive();
            return server;
        } catch (RuntimeException | Error e) {
            if (server != null) {
                server.shutdown(0);
            } else {
                b.close();
            }
            throw e;
        }
    }

    /**
     * {@code --mode validate}: loads plugins and config and builds clusters and listeners (every filter config
     * bound) without binding a port; then releases everything.
     *
     * @return the warnings about fields not implemented yet (also logged)
     * @throws ConfigException when the config cannot be run
     */
    public static List<String> validate(ServerOptions options) {
        requireNonNull(options, "options");
        Built b = Built.build(options, true);
        List<String> w = List.copyOf(b.warnings);
        b.close();
        return w;
    }

    private void markLive() {
        liveGauge.set(1);
        stateGauge.set(0);
        uptimeGauge.set(0);
        uptimeTask = boss.next().scheduleAtFixedRate(this::updateUptime, 1, 1, TimeUnit.SECONDS);
        log.info("Legate is live: {} listener(s), {} worker(s), {} transport", listeners.bound().size(),
                options.concurrency(), Transports.name());
    }

    private void updateUptime() {
        uptimeGauge.set(uptimeSeconds());
    }

    private long uptimeSeconds() {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    }

    /** The bound listener addresses, in config order (the real ports when the config said 0). */
    public List<InetSocketAddress> listenerAddresses() {
        return listeners.bound().stream().map(ListenerManager.BoundListener::address).toList();
    }

    /**
     * The bound address of the listener named {@code name}.
     *
     * @throws IllegalArgumentException when there is no such listener
     */
    public InetSocketAddress listenerAddress(String name) {
        for (ListenerManager.BoundListener l : listeners.bound()) {
            if (l.name().equals(name)) {
                return l.address();
            }
        }
        throw new IllegalArgumentException("name: " + name + " (expected one of: "
                + listeners.bound().stream().map(ListenerManager.BoundListener::name).toList() + ")");
    }

    /** The admin listener's bound address, or {@code null} when the config has no {@code admin.address}. */
    public InetSocketAddress adminAddress() {
        return adminAddress;
    }

    /** The process's stats. */
    public StatsStore stats() {
        return stats;
    }

    /** The bootstrap in effect, with the node as completed by the command line. */
    public Bootstrap bootstrap() {
        return bootstrap;
    }

    /** The warnings about config fields Legate does not implement yet. */
    public List<String> warnings() {
        return warnings;
    }

    /** The loaded plugins. */
    public List<PluginHost.PluginDescription> plugins() {
        return plugins.plugins();
    }

    /** {@code LIVE}, or {@code DRAINING} after {@code /healthcheck/fail} or while closing. */
    public String state() {
        return healthCheckFailed || closing ? "DRAINING" : "LIVE";
    }

    /** Blocks until {@link #close()} has finished (for example after {@code POST /quitquitquit}). */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** Like {@link #awaitTermination()}, bounded; whether the server terminated. */
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return terminated.await(timeout, unit);
    }

    /**
     * Stops accepting, gives open connections up to {@code drainTimeSeconds} to end, closes the rest, then the
     * cluster manager, the admin listener, the event loops and the plugins (one by one). Idempotent; returns
     * when done.
     */
    @Override
    public void close() {
        shutdown(options.drainTimeSeconds());
    }

    /**
     * Like {@link #close()} with another drain time; {@code Duration.ZERO} closes open connections at once (what
     * Envoy does on {@code /quitquitquit} and on SIGTERM).
     */
    public void close(Duration drainTime) {
        shutdown((int) Math.min(Integer.MAX_VALUE, Math.max(0, drainTime.toSeconds())));
    }

    private synchronized void shutdown(int drainSeconds) {
        if (terminated.getCount() == 0) {
            return;
        }
        closing = true;
        liveGauge.set(0);
        stateGauge.set(1);
        if (uptimeTask != null) {
            uptimeTask.cancel(false);
        }
        listeners.stopAccepting();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(drainSeconds);
        while (listeners.activeConnections() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        listeners.closeConnections();
        AdminServer a = admin;
        if (a != null) {
            quietly("admin", a::close);
        }
        Built.closeAll(closeables, clusterManager, workers, boss, plugins);
        terminated.countDown();
        log.info("Legate stopped");
    }

    private static void quietly(String what, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("Closing {} failed", what, e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The view the admin listener gets. */
    AdminContext adminContext() {
        return new Admin();
    }

    private final class Admin implements AdminContext {
        @Override
        public StatsStore stats() {
            updateUptime();
            return stats;
        }

        @Override
        public String clustersText() {
            return clusterManager.renderClustersText();
        }

        @Override
        public List<ListenerInfo> listeners() {
            return listeners.bound().stream().map(l -> new ListenerInfo(l.name(), l.address())).toList();
        }

        @Override
        public Message bootstrap() {
            return bootstrap;
        }

        @Override
        public String state() {
            return Server.this.state();
        }

        @Override
        public long uptimeSeconds() {
            return Server.this.uptimeSeconds();
        }

        @Override
        public Map<String, Object> commandLineOptions() {
            return options.commandLineOptions();
        }

        @Override
        public Node node() {
            return node;
        }

        @Override
        public List<PluginInfo> plugins() {
            return plugins.plugins().stream()
                    .map(p -> new PluginInfo(p.id(), p.version() == null ? "" : p.version(), p.state(), p.filters()))
                    .toList();
        }

        @Override
        public void quit() {
            // Envoy exits at once on /quitquitquit: no drain
            Thread t = new Thread(() -> Server.this.close(Duration.ZERO), "legate-quit");
            t.setDaemon(false);
            t.start();
        }

        @Override
        public void setHealthCheckFailed(boolean failed) {
            healthCheckFailed = failed;
            liveGauge.set(failed ? 0 : 1);
            stateGauge.set(failed ? 1 : 0);
        }

        @Override
        public TypeRegistry typeRegistry() {
            return types;
        }
    }

    /** Everything built before binding; closes itself on failure. */
    private static final class Built {
        ServerOptions options;
        PluginHost plugins;
        TypeRegistry types;
        Bootstrap bootstrap;
        Node node;
        List<String> warnings = List.of();
        StatsStore stats;
        EventLoopGroup boss;
        EventLoopGroup workers;
        ClusterManagerImpl clusterManager;
        ListenerManager listeners;
        List<AutoCloseable> closeables = FactoryContextImpl.newCloseables();

        static Built build(ServerOptions options, boolean validateOnly) {
            Built b = new Built();
            b.options = options;
            try {
                b.plugins = PluginHost.load(options.pluginsDirs(), options.extraFactories());
                b.types = ConfigTypeRegistry.build(b.plugins.registry());
                BootstrapLoader.Loaded loaded = BootstrapLoader.load(options.configPath(), options.configYaml(),
                        b.types);
                String source = loaded.source();
                try {
                    b.warnings = BootstrapChecks.check(loaded.bootstrap());
                    for (String w : b.warnings) {
                        log.warn("{}: {}", source, w);
                    }
                    Node.Builder node = loaded.bootstrap().getNode().toBuilder();
                    if (options.serviceNode() != null && !options.serviceNode().isEmpty()) {
                        node.setId(options.serviceNode());
                    }
                    if (options.serviceCluster() != null && !options.serviceCluster().isEmpty()) {
                        node.setCluster(options.serviceCluster());
                    }
                    b.node = node.build();
                    b.bootstrap = loaded.bootstrap().hasNode() || !b.node.equals(Node.getDefaultInstance())
                            ? loaded.bootstrap().toBuilder().setNode(b.node).build() : loaded.bootstrap();
                    b.stats = new StatsStore();
                    b.workers = Transports.newGroup(options.concurrency(), "legate-worker");
                    b.boss = Transports.newGroup(1, "legate-boss");
                    b.clusterManager = new ClusterManagerImpl(
                            b.bootstrap.getStaticResources().getClustersList(), b.stats, b.workers);
                    ConfigBinder binder = new ConfigBinder(b.types, b.plugins.registry());
                    FactoryContextImpl.Shared shared = new FactoryContextImpl.Shared(b.plugins.registry(), binder,
                            b.clusterManager, new HttpConnectionServiceImpl(b.stats.root()), b.node.getId(), b.node.getCluster(),
                            loaded.configDirectory(), validateOnly, b.closeables);
                    b.listeners = new ListenerManager(b.bootstrap.getStaticResources().getListenersList(),
                            b.plugins.registry(), binder, new FactoryContextImpl(shared, b.stats.root()));
                } catch (ConfigException e) {
                    throw new ConfigException(source + ": " + e.getMessage(), e);
                }
                return b;
            } catch (RuntimeException | Error e) {
                b.close();
                throw e;
            }
        }

        void close() {
            if (listeners != null) {
                listeners.close();
            }
            closeAll(closeables, clusterManager, workers, boss, plugins);
        }

        static void closeAll(List<AutoCloseable> closeables, ClusterManagerImpl clusterManager,
                             EventLoopGroup workers, EventLoopGroup boss, PluginHost plugins) {
            List<AutoCloseable> reversed = new ArrayList<>(closeables);
            java.util.Collections.reverse(reversed);
            for (AutoCloseable c : reversed) {
                try {
                    c.close();
                } catch (Exception e) {
                    log.warn("Closing {} failed", c, e);
                }
            }
            closeables.clear();
            if (clusterManager != null) {
                quietly("cluster manager", clusterManager::close);
            }
            if (workers != null) {
                workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            if (boss != null) {
                boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            if (plugins != null) {
                quietly("plugins", plugins::close);
            }
        }
    }
}
