package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One compiled route of a virtual host (Envoy's {@code RouteEntryImplBase} as a {@code Route}). Shared by
 * every event loop; {@link #resolve} gives the per-request view when the cluster comes from a header or a
 * weighted pick.
 */
final class CompiledRoute implements Route {

    /** How {@code RouteAction} names its cluster. */
    enum ClusterKind { STATIC, HEADER, WEIGHTED, NONE }

    private final String name;
    private final io.envoyproxy.envoy.config.route.v3.Route config;
    private final VirtualHost virtualHost;
    private final CompiledMatch match;
    private final ForwardingEntry entry;
    private final LocalReplyEntry directResponse;
    private final FilterConfigs filterConfigs;
    private final ClusterKind clusterKind;
    private final String clusterHeader;
    private final ForwardingEntry.WeightedTarget[] targets;
    private final long totalWeight;
    private final String randomValueHeader;

    CompiledRoute(io.envoyproxy.envoy.config.route.v3.Route config, VirtualHost virtualHost, CompiledMatch match,
                  ForwardingEntry entry, LocalReplyEntry directResponse, FilterConfigs filterConfigs,
                  ClusterKind clusterKind, String clusterHeader, ForwardingEntry.WeightedTarget[] targets,
                  long totalWeight, String randomValueHeader) {
        this.name = config.getName();
        this.config = config;
        this.virtualHost = virtualHost;
        this.match = match;
        this.entry = entry;
        this.directResponse = directResponse;
        this.filterConfigs = filterConfigs;
        this.clusterKind = clusterKind;
        this.clusterHeader = clusterHeader;
        this.targets = targets;
        this.totalWeight = totalWeight;
        this.randomValueHeader = randomValueHeader;
    }

    boolean matches(HeaderMap headers, String path) {
        return match.matches(headers, path);
    }

    /** This route for one request: itself, or a view with the header-chosen or weighted cluster. */
    Route resolve(HeaderMap headers) {
        switch (clusterKind) {
            case HEADER: {
                String cluster = headers.get(clusterHeader);
                return new Resolved(this, new ForwardingEntry(entry.action(), emptyToNull(cluster), null), filterConfigs);
            }
            case WEIGHTED: {
                ForwardingEntry.WeightedTarget t = pick(headers);
                String cluster = t.name() != null ? t.name() : emptyToNull(headers.get(t.clusterHeader()));
                return new Resolved(this, new ForwardingEntry(entry.action(), cluster, t), t.filterConfigs());
            }
            default:
                return this;
        }
    }

    /** Envoy's pick: a value in [0, total), then the first cluster whose cumulative weight exceeds it. */
    ForwardingEntry.WeightedTarget pick(HeaderMap headers) {
        long value = -1;
        if (randomValueHeader != null) {
            String v = headers.get(randomValueHeader);
            if (v != null) {
                try {
                    value = Long.remainderUnsigned(Long.parseUnsignedLong(v.trim()), totalWeight);
                } catch (NumberFormatException e) {
                    value = -1;
                }
            }
        }
        if (value < 0) {
            value = ThreadLocalRandom.current().nextLong(totalWeight);
        }
        long sum = 0;
        for (ForwardingEntry.WeightedTarget t : targets) {
            sum += t.weight();
            if (value < sum) {
                return t;
            }
        }
        return targets[targets.length - 1];
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    // Route

    @Override
    public String name() {
        return name;
    }

    @Override
    public io.envoyproxy.envoy.config.route.v3.Route config() {
        return config;
    }

    @Override
    public VirtualHost virtualHost() {
        return virtualHost;
    }

    @Override
    public RouteEntry routeEntry() {
        return entry;
    }

    @Override
    public DirectResponseEntry directResponseEntry() {
        return directResponse;
    }

    @Override
    public Object perFilterConfig(String filterName) {
        return filterConfigs.mostSpecific(filterName);
    }

    @Override
    public List<Object> perFilterConfigs(String filterName) {
        return filterConfigs.all(filterName);
    }

    /** The per-request view: the same route with the chosen cluster and its weighted-cluster settings. */
    private record Resolved(CompiledRoute route, ForwardingEntry entry, FilterConfigs filterConfigs)
            implements Route {

        @Override
        public String name() {
            return route.name;
        }

        @Override
        public io.envoyproxy.envoy.config.route.v3.Route config() {
            return route.config;
        }

        @Override
        public VirtualHost virtualHost() {
            return route.virtualHost;
        }

        @Override
        public RouteEntry routeEntry() {
            return entry;
        }

        @Override
        public DirectResponseEntry directResponseEntry() {
            return null;
        }

        @Override
        public Object perFilterConfig(String filterName) {
            return filterConfigs.mostSpecific(filterName);
        }

        @Override
        public List<Object> perFilterConfigs(String filterName) {
            return filterConfigs.all(filterName);
        }
    }
}
