package dev.legate.host.upstream;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResourceManager;
import dev.legate.api.upstream.TcpConnectionPool;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.host.event.NettyDispatcher;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster of a snapshot (Envoy's {@code ClusterInfo} + {@code ThreadLocalCluster}): its settings, stats,
 * circuit breakers, host set, load balancer, and the pools of each event loop.
 *
 * <p>Threads: {@link #chooseHost} from any thread; {@link #httpConnectionPool}/{@link #tcpConnectionPool}
 * on the caller's event loop (pools are created lazily per loop and per host, found through a
 * {@link ConcurrentHashMap} keyed by the loop whose reads take no lock); DNS updates on the cluster
 * manager's DNS thread.
 */
final class ClusterImpl implements UpstreamCluster {

    private static final Logger log = LoggerFactory.getLogger(ClusterImpl.class);

    final ClusterSettings settings;
    final ClusterStats stats;
    final ResourceManagerImpl resources;
    final ChannelGroup channels;
    private final Stats scope;
    private final LoadBalancer lb;
    private final Map<EventLoop, LoopPools> loopPools = new ConcurrentHashMap<>();
    private volatile HostSet hostSet = HostSet.EMPTY;
    private volatile boolean closed;
    /** LOGICAL_DNS: the one logical host, created on the first answer. DNS thread only. */
    private HostImpl logicalHost;

    ClusterImpl(ClusterSettings settings, Stats root, ChannelGroup channels) {
        this.settings = settings;
        this.channels = channels;
        this.scope = root.scope("cluster." + settings.statName);
        this.stats = new ClusterStats(scope, settings.http2 != null);
        this.resources = new ResourceManagerImpl(settings.defaultThresholds, scope);
        this.lb = LoadBalancer.of(settings);
        if (settings.discovery == ClusterSettings.Discovery.STATIC) {
            List<HostImpl> hosts = new ArrayList<>();
            for (ClusterSettings.EndpointSpec e : settings.endpoints) {
                hosts.add(newHost(new InetSocketAddress(e.ip(), e.port()), e.hostname(), e));
            }
            publish(hosts);
        }
    }

    private static HostImpl newHost(InetSocketAddress address, String hostname, ClusterSettings.EndpointSpec e) {
        return new HostImpl(address, hostname, e.weight(), e.healthStatus(), e.locality(), e.priority(), e.hashKey());
    }

    boolean isDns() {
        return settings.discovery != ClusterSettings.Discovery.STATIC;
    }

    HostSet hostSet() {
        return hostSet;
    }

    private void publish(List<HostImpl> hosts) {
        // The consistent-hash table is built here (main or DNS thread) and published with the set.
        HostSet next = new HostSet(hosts, settings.panicThresholdPercent, lb);
        HostSet prev = hostSet;
        hostSet = next;
        stats.membershipTotal.set(next.all.size());
        stats.membershipHealthy.set(next.healthyCount);
        stats.maxHostWeight.set(next.maxWeight);
        if (prev != HostSet.EMPTY || !next.all.isEmpty()) {
            stats.membershipChange.inc();
        }
        Set<HostImpl> removed = new HashSet<>(prev.all);
        next.all.forEach(removed::remove);
        if (!removed.isEmpty()) {
            for (LoopPools lp : loopPools.values()) {
                lp.loop.execute(() -> lp.drain(removed));
            }
        }
    }

    // DNS (the cluster manager's DNS thread only)

    /**
     * Resolves every endpoint name once (Envoy's {@code StrictDnsClusterImpl::ResolveTarget} /
     * {@code LogicalDnsCluster::startResolve}) and publishes the new host set when it changed. A name that
     * fails to resolve keeps its previous hosts.
     *
     * @return whether every name resolved
     */
    boolean refreshDns() {
        stats.updateAttempt.inc();
        boolean ok = true;
        if (settings.discovery == ClusterSettings.Discovery.LOGICAL_DNS) {
            ClusterSettings.EndpointSpec e = settings.endpoints.get(0);
            try {
                List<InetAddress> addrs = resolve(e);
                if (addrs.isEmpty()) {
                    throw new UnknownHostException(e.address() + ": no address of family " + settings.lookupFamily);
                }
                InetSocketAddress a = new InetSocketAddress(addrs.get(0), e.port());
                if (logicalHost == null) {
                    logicalHost = newHost(a, e.address(), e);
                    publish(List.of(logicalHost));
                } else if (!a.equals(logicalHost.address())) {
                    logicalHost.setAddress(a);
                    stats.membershipChange.inc();
                } else {
                    stats.updateNoRebuild.inc();
                }
            } catch (UnknownHostException ex) {
                ok = false;
                log.warn("cluster {}: DNS resolution of {} failed: {}", settings.name, e.address(), ex.getMessage());
            }
        } else {
            Map<String, HostImpl> previous = new HashMap<>();
            for (HostImpl h : hostSet.all) {
                previous.put(h.hostname() + "/" + h.addressString(), h);
            }
            List<HostImpl> next = new ArrayList<>();
            for (ClusterSettings.EndpointSpec e : settings.endpoints) {
                List<InetAddress> addrs;
                try {
                    addrs = resolve(e);
                } catch (UnknownHostException ex) {
                    ok = false;
                    log.warn("cluster {}: DNS resolution of {} failed: {}", settings.name, e.address(), ex.getMessage());
                    for (HostImpl h : hostSet.all) {
                        if (h.hostname().equals(hostnameOf(e)) && h.address().getPort() == e.port()) {
                            next.add(h);
                        }
                    }
                    continue;
                }
                for (InetAddress addr : addrs) {
                    InetSocketAddress sa = new InetSocketAddress(addr, e.port());
                    HostImpl h = previous.remove(hostnameOf(e) + "/" + io.netty.util.NetUtil.toSocketAddressString(sa));
                    next.add(h != null ? h : newHost(sa, hostnameOf(e), e));
                }
            }
            if (new HashSet<>(next).equals(new HashSet<>(hostSet.all)) && hostSet != HostSet.EMPTY) {
                stats.updateNoRebuild.inc();
            } else {
                publish(next);
            }
        }
        if (ok) {
            stats.updateSuccess.inc();
        } else {
            stats.updateFailure.inc();
        }
        return ok;
    }

    private static String hostnameOf(ClusterSettings.EndpointSpec e) {
        return e.hostname().isEmpty() ? e.address() : e.hostname();
    }

    /**
     * The addresses of one endpoint, filtered by {@code dns_lookup_family}. {@code AUTO} behaves as
     * {@code V4_PREFERRED} here (IPv4 when the name has any, else IPv6), unlike Envoy's IPv6-first AUTO,
     * because IPv6 upstream routes are rare on the hosts Legate runs on. Duplicates are dropped.
     */
    private List<InetAddress> resolve(ClusterSettings.EndpointSpec e) throws UnknownHostException {
        InetAddress[] all = e.ip() != null ? new InetAddress[] {e.ip()} : InetAddress.getAllByName(e.address());
        Set<InetAddress> v4 = new LinkedHashSet<>();
        Set<InetAddress> v6 = new LinkedHashSet<>();
        for (InetAddress a : all) {
            if (a instanceof Inet4Address) {
                v4.add(a);
            } else if (a instanceof Inet6Address) {
                v6.add(a);
            }
        }
        Cluster.DnsLookupFamily f = settings.lookupFamily;
        List<InetAddress> out = new ArrayList<>();
        switch (f) {
            case V4_ONLY -> out.addAll(v4);
            case V6_ONLY -> out.addAll(v6);
            case ALL -> {
                out.addAll(v4);
                out.addAll(v6);
            }
            default -> out.addAll(v4.isEmpty() ? v6 : v4);
        }
        return out;
    }

    void close() {
        closed = true;
        for (LoopPools lp : loopPools.values()) {
            lp.loop.execute(lp::close);
        }
    }

    boolean isClosed() {
        return closed;
    }

    Stats scope() {
        return scope;
    }

    // UpstreamCluster

    @Override
    public String name() {
        return settings.name;
    }

    @Override
    public Stats stats() {
        return scope;
    }

    @Override
    public ResourceManager resourceManager() {
        return resources;
    }

    @Override
    public long connectTimeoutMillis() {
        return settings.connectTimeoutMillis;
    }

    @Override
    public int perConnectionBufferLimitBytes() {
        return settings.bufferLimit;
    }

    /**
     * A host by {@code lb_policy}, or {@code null} when the cluster has no host to offer (empty, or none
     * healthy with {@code healthy_panic_threshold} 0). When {@code context} asks to skip the chosen host (a
     * retry's previous host), the balancer picks again up to {@link LoadBalancerContext#hostSelectionRetryCount()}
     * times and returns the last pick anyway, as Envoy's {@code LoadBalancerBase::chooseHost}; the consistent-hash
     * policies re-pick deterministically from the request's hash (Envoy's {@code chooseHost(hash, attempt)}).
     * Any thread; never builds a table.
     */
    @Override
    public Host chooseHost(LoadBalancerContext context) {
        HostSet set = hostSet;
        if (set.lb.length == 0) {
            return null;
        }
        if (set.panic) {
            stats.lbHealthyPanic.inc();
        }
        return lb.chooseHost(set, context == LoadBalancerContext.NONE ? null : context);
    }

    /**
     * This loop's HTTP pool for {@code host}: an {@link Http2ConnectionPoolImpl} (multiplexed) when the cluster
     * speaks HTTP/2 ({@link ClusterSettings#http2}), otherwise an {@link HttpConnectionPoolImpl} (HTTP/1.1).
     *
     * @throws IllegalArgumentException when {@code host} is not of this cluster's kind or {@code dispatcher}
     *                                  is not the host's {@link NettyDispatcher}
     * @throws IllegalStateException    when not called on {@code dispatcher}'s loop
     */
    @Override
    public HttpConnectionPool httpConnectionPool(Host host, Dispatcher dispatcher) {
        LoopPools lp = loopPools(dispatcher);
        HostImpl h = hostImpl(host);
        if (settings.http2 != null) {
            HttpConnectionPool pool2 = lp.http2.get(h);
            return pool2 != null ? pool2 : lp.http2.computeIfAbsent(h, k -> new Http2ConnectionPoolImpl(this, k, lp.loop));
        }
        HttpConnectionPool pool = lp.http.get(h);  // the common case: no lambda, no allocation
        return pool != null ? pool : lp.http.computeIfAbsent(h, k -> new HttpConnectionPoolImpl(this, k, lp.loop));
    }

    /** This loop's TCP pool for {@code host}; same rules as {@link #httpConnectionPool}. */
    @Override
    public TcpConnectionPool tcpConnectionPool(Host host, Dispatcher dispatcher) {
        LoopPools lp = loopPools(dispatcher);
        HostImpl h = hostImpl(host);
        TcpConnectionPool pool = lp.tcp.get(h);
        return pool != null ? pool : lp.tcp.computeIfAbsent(h, k -> new TcpConnectionPoolImpl(this, k, lp.loop));
    }

    private LoopPools loopPools(Dispatcher dispatcher) {
        requireNonNull(dispatcher, "dispatcher");
        if (!(dispatcher instanceof NettyDispatcher nd)) {
            throw new IllegalArgumentException("dispatcher: " + dispatcher.getClass().getName()
                    + " (expected: the host's NettyDispatcher)");
        }
        EventLoop loop = nd.eventLoop();
        if (!loop.inEventLoop()) {
            throw new IllegalStateException("pools must be requested on the dispatcher's event loop");
        }
        LoopPools lp = loopPools.get(loop);
        if (lp == null) {
            lp = loopPools.computeIfAbsent(loop, LoopPools::new);
        }
        return lp;
    }

    private static HostImpl hostImpl(Host host) {
        requireNonNull(host, "host");
        if (!(host instanceof HostImpl h)) {
            throw new IllegalArgumentException("host: " + host + " (expected: a host chosen by this cluster)");
        }
        return h;
    }

    /** One event loop's pools of this cluster; touched only on {@link #loop}. */
    private static final class LoopPools {
        final EventLoop loop;
        final Map<HostImpl, HttpConnectionPoolImpl> http = new HashMap<>();
        final Map<HostImpl, Http2ConnectionPoolImpl> http2 = new HashMap<>();
        final Map<HostImpl, TcpConnectionPoolImpl> tcp = new HashMap<>();

        LoopPools(EventLoop loop) {
            this.loop = loop;
        }

        /** Hosts left the cluster: close their idle HTTP connections; busy ones close when done. */
        void drain(Set<HostImpl> removed) {
            for (HostImpl h : removed) {
                HttpConnectionPoolImpl p = http.remove(h);
                if (p != null) {
                    p.drain();
                }
                Http2ConnectionPoolImpl p2 = http2.remove(h);
                if (p2 != null) {
                    p2.drain();
                }
                tcp.remove(h);
            }
        }

        void close() {
            http.values().forEach(HttpConnectionPoolImpl::drain);
            http.clear();
            http2.values().forEach(Http2ConnectionPoolImpl::drain);
            http2.clear();
            tcp.clear();
        }
    }
}
