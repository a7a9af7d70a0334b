package dev.legate.host.listener;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.host.config.ConfigBinder;
import dev.legate.host.config.FactoryContextImpl;
import dev.legate.host.event.Transports;
import dev.legate.host.plugin.FilterRegistry;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The static listeners of a bootstrap: built (every network filter's config bound and its factory's
 * {@code create} called, the terminal check applied) when constructed, bound later with {@link #bind}.
 *
 * <p>Each listener is a Netty {@link ServerBootstrap} on the shared boss group and worker group. Accepted
 * channels get {@code TCP_NODELAY}, {@code ALLOW_HALF_CLOSURE}, {@code AUTO_READ} and a write-buffer watermark
 * of ({@code per_connection_buffer_limit_bytes} / 2, {@code per_connection_buffer_limit_bytes}) (1 MiB by
 * default, Envoy's). A connection stays on the worker that accepted it. Built and bound on the main thread.
 */
public final class ListenerManager implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ListenerManager.class);

    /** Envoy's default {@code per_connection_buffer_limit_bytes}: 1 MiB. */
    public static final int DEFAULT_BUFFER_LIMIT = 1024 * 1024;

    /**
     * One built listener.
     *
     * @param name        {@code name} (or {@code listener_<i>} when empty)
     * @param address     the configured address (port may be 0)
     * @param statPrefix  {@code stat_prefix}, or empty for {@code listener.<address>.}
     * @param bufferLimit {@code per_connection_buffer_limit_bytes}
     * @param backlog     {@code tcp_backlog_size}, or 0 for the system default
     * @param filters     the non-pipeline network filters, in order
     * @param pipeline    the terminal pipeline installer (the HTTP connection manager), or {@code null}
     */
    public record BuiltListener(String name, InetSocketAddress address, String statPrefix, int bufferLimit,
                                int backlog, List<NetworkFilterInstaller> filters,
                                ConnectionPipelineInstaller pipeline) {
    }

    /** A bound listener: its name and the address the socket really has (port 0 resolved). */
    public record BoundListener(String name, InetSocketAddress address) {
    }

    private final List<BuiltListener> built;
    private final List<Channel> serverChannels = new ArrayList<>();
    private final List<BoundListener> bound = new ArrayList<>();
    private final ChannelGroup connections = new DefaultChannelGroup("legate-downstream", GlobalEventExecutor.INSTANCE);
    /** Set before the listening sockets close: a connection accepted in that window is closed at once. */
    private volatile boolean closing;

    /**
     * Builds every listener of {@code listeners} (already checked by {@code BootstrapChecks}).
     *
     * @throws ConfigException naming the field's path, e.g.
     *         {@code static_resources.listeners[0].filter_chains[0].filters[0].name: no plugin provides ...}
     */
    public ListenerManager(List<Listener> listeners, FilterRegistry filters, ConfigBinder binder,
                           FactoryContextImpl context) {
        requireNonNull(listeners, "listeners");
        List<BuiltListener> out = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < listeners.size(); i++) {
            String path = "static_resources.listeners[" + i + "]";
            Listener l = listeners.get(i);
            String name = l.getName().isEmpty() ? "listener_" + i : l.getName();
            String previous = names.putIfAbsent(name, path);
            if (previous != null) {
                throw ConfigException.at(path + ".name", "duplicate listener name " + name + " (also " + previous
                        + ")");
            }
            out.add(build(l, name, path, filters, binder, context));
        }
        this.built = List.copyOf(out);
    }

    private static BuiltListener build(Listener l, String name, String path, FilterRegistry registry,
                                       ConfigBinder binder, FactoryContextImpl context) {
        InetSocketAddress address = toAddress(l.getAddress().getSocketAddress(), path + ".address.socket_address");
        int limit = l.hasPerConnectionBufferLimitBytes() ? l.getPerConnectionBufferLimitBytes().getValue()
                : DEFAULT_BUFFER_LIMIT;
        if (limit < 2) {
            throw ConfigException.at(path + ".per_connection_buffer_limit_bytes", limit + " (expected: >= 2)");
        }
        int backlog = l.hasTcpBacklogSize() ? l.getTcpBacklogSize().getValue() : 0;
        boolean useDefault = l.getFilterChainsCount() == 0;
        FilterChain chain = useDefault ? l.getDefaultFilterChain() : l.getFilterChains(0);
        String chainPath = path + (useDefault ? ".default_filter_chain" : ".filter_chains[0]");
        List<NetworkFilterInstaller> installers = new ArrayList<>();
        ConnectionPipelineInstaller pipeline = null;
        int n = chain.getFiltersCount();
        for (int i = 0; i < n; i++) {
            Filter f = chain.getFilters(i);
            String p = chainPath + ".filters[" + i + "]";
            NetworkFilterFactory<?> factory = registry.networkFilter(f.getName());
            if (factory == null && f.hasTypedConfig()) {
                factory = registry.networkFilterForType(ConfigBinder.configTypeUrl(f.getTypedConfig()));
            }
            if (factory == null) {
                throw ConfigException.at(p + ".name", "no plugin provides network filter " + f.getName()
                        + " (loaded: " + String.join(", ", registry.networkFilterNames()) + ")");
            }
            boolean last = i == n - 1;
            if (factory.isTerminal() && !last) {
                throw ConfigException.at(p, "terminal filter named " + f.getName() + " of type " + factory.name()
                        + " must be the last filter in a network filter chain.");
            }
            if (!factory.isTerminal() && last) {
                throw ConfigException.at(p, "non-terminal filter named " + f.getName() + " of type "
                        + factory.name() + " is the last filter in a network filter chain.");
            }
            NetworkFilterInstaller installer = create(factory, f, p, binder, context);
            if (installer instanceof ConnectionPipelineInstaller cpi) {
                if (!last) {
                    throw ConfigException.at(p, "filter " + f.getName() + " installs pipeline handlers and must "
                            + "be the last filter in a network filter chain.");
                }
                pipeline = cpi;
            } else {
                installers.add(installer);
            }
        }
        String statPrefix = l.getStatPrefix();
        return new BuiltListener(name, address, statPrefix, limit, backlog, List.copyOf(installers), pipeline);
    }

    private static <C> NetworkFilterInstaller create(NetworkFilterFactory<C> factory, Filter f, String path,
                                                     ConfigBinder binder, FactoryContextImpl context) {
        String typedPath = path + ".typed_config";
        C config = binder.bind(factory.configType(), f.hasTypedConfig() ? f.getTypedConfig() : null,
                f.getName(), typedPath);
        NetworkFilterInstaller installer;
        try {
            installer = factory.create(config, context);
        } catch (ConfigException e) {
            throw e.under(factory.configType().isProto() ? typedPath : typedPath + ".value");
        }
        if (installer == null) {
            throw ConfigException.at(typedPath, "filter " + f.getName() + " returned no installer");
        }
        return installer;
    }

    /** An IP literal and a port as a socket address; never resolves a name. */
    public static InetSocketAddress toAddress(SocketAddress sa, String path) {
        byte[] ip = NetUtil.createByteArrayFromIpAddressString(sa.getAddress());
        if (ip == null) {
            throw ConfigException.at(path + ".address", sa.getAddress() + " (expected: an IP address)");
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), sa.getPortValue());
        } catch (UnknownHostException e) {
            throw ConfigException.at(path + ".address", sa.getAddress() + ": " + e.getMessage());
        }
    }

    /** The listeners as built, in config order. */
    public List<BuiltListener> built() {
        return built;
    }

    /**
     * Binds every listener. On a failure the listeners bound so far are closed.
     *
     * @throws ListenerBindException naming the listener and the address
     */
    public void bind(EventLoopGroup boss, EventLoopGroup workers, Stats root, ClusterManager clusterManager) {
        for (BuiltListener l : built) {
            ServerBootstrap b = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(Transports.serverChannelClass())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .childOption(ChannelOption.AUTO_READ, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(l.bufferLimit() / 2, l.bufferLimit()));
            if (l.backlog() > 0) {
                b.option(ChannelOption.SO_BACKLOG, l.backlog());
            }
            AtomicReference<ListenerStats> stats = new AtomicReference<>();
            b.childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    connections.add(ch);
                    if (closing) { // accepted while the listener was closing: the group's close may have missed it
                        ch.close();
                        return;
                    }
                    ListenerStats s = stats.get();
                    if (s == null) { // the name needs the bound port; idempotent: the store returns the same meters
                        InetSocketAddress local = (InetSocketAddress) ch.parent().localAddress();
                        s = new ListenerStats(root.scope("listener." + statScope(l, local)));
                        stats.set(s);
                    }
                    DownstreamConnectionImpl conn = new DownstreamConnectionImpl(ch, clusterManager, l.bufferLimit());
                    ch.pipeline().addLast("legate-network-filters",
                            new NetworkFilterHandler(conn, l.filters(), l.pipeline() != null, s));
                    if (l.pipeline() != null) {
                        l.pipeline().install(conn);
                    }
                }
            });
            ChannelFuture f = b.bind(l.address()).awaitUninterruptibly();
            if (!f.isSuccess()) {
                close();
                Throwable cause = f.cause();
                throw new ListenerBindException("listener " + l.name() + ": cannot bind "
                        + hostPort(l.address()) + ": " + (cause == null ? "unknown error" : cause.getMessage()),
                        cause);
            }
            Channel server = f.channel();
            InetSocketAddress actual = (InetSocketAddress) server.localAddress();
            stats.compareAndSet(null, new ListenerStats(root.scope("listener." + statScope(l, actual))));
            serverChannels.add(server);
            bound.add(new BoundListener(l.name(), actual));
            log.info("Listener {} on {}", l.name(), hostPort(actual));
        }
    }

    private static String statScope(BuiltListener l, InetSocketAddress actual) {
        return l.statPrefix().isEmpty() ? statName(actual) : l.statPrefix();
    }

    /** Envoy's rendering of a listener address in stat names: {@code 127.0.0.1_10000}, {@code [__1]_10000}. */
    public static String statName(InetSocketAddress address) {
        return hostPort(address).replace(':', '_');
    }

    /** {@code ip:port}, with IPv6 in brackets. */
    public static String hostPort(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        String host = ip == null ? address.getHostString() : NetUtil.toAddressString(ip);
        return (ip instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** The bound listeners, in config order. */
    public List<BoundListener> bound() {
        return List.copyOf(bound);
    }

    /** Stops accepting: closes every listening socket. Open connections stay. */
    public void stopAccepting() {
        closing = true;
        for (Channel c : serverChannels) {
            c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        serverChannels.clear();
    }

    /** Open downstream connections of every listener. */
    public int activeConnections() {
        return connections.size();
    }

    /** Closes every open downstream connection and waits (bounded) for them to close. */
    public void closeConnections() {
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** Stops accepting and closes every connection. Idempotent. */
    @Override
    public void close() {
        stopAccepting();
        closeConnections();
    }
}
