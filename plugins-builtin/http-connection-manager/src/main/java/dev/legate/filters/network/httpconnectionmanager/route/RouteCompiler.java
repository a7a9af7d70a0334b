package dev.legate.filters.network.httpconnectionmanager.route;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.legate.api.ConfigException;
import dev.legate.api.config.DataSources;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.upstream.ClusterManager;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiles a {@code RouteConfiguration} into a {@link RouteTable} (Envoy's {@code ConfigImpl},
 * {@code VirtualHostImpl} and {@code RouteEntryImplBase} constructors). One use, on the main thread.
 */
final class RouteCompiler {

    private static final Logger logger = LoggerFactory.getLogger(RouteCompiler.class);

    private static final String FILTER_CONFIG_TYPE = "type.googleapis.com/" + FilterConfig.getDescriptor().getFullName();

    private static final Set<String> CONFIG_FIELDS = Set.of("name", "virtual_hosts", "internal_only_headers",
            "response_headers_to_add", "response_headers_to_remove", "request_headers_to_add",
            "request_headers_to_remove", "most_specific_header_mutations_wins", "validate_clusters",
            "max_direct_response_body_size_bytes", "typed_per_filter_config", "ignore_port_in_host_matching");
    private static final Set<String> VHOST_FIELDS = Set.of("name", "domains", "routes", "require_tls",
            "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
            "response_headers_to_remove", "typed_per_filter_config", "retry_policy",
            // the deprecated CORS policy: read by envoy.filters.http.cors through Route.virtualHost()
            "cors");
    private static final Set<String> VHOST_HARMLESS = Set.of("virtual_clusters", "rate_limits", "metadata");
    private static final Set<String> ROUTE_FIELDS = Set.of("name", "match", "route", "redirect", "direct_response",
            "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove",
            "response_headers_to_add", "response_headers_to_remove");
    private static final Set<String> ROUTE_HARMLESS = Set.of("metadata", "decorator", "tracing", "stat_prefix");
    private static final Set<String> ACTION_FIELDS = Set.of("cluster", "cluster_header", "weighted_clusters",
            "cluster_not_found_response_code", "prefix_rewrite", "regex_rewrite", "host_rewrite_literal",
            "auto_host_rewrite", "host_rewrite_header", "append_x_forwarded_host", "timeout", "idle_timeout",
            "retry_policy", "upgrade_configs",
            // the deprecated CORS policy: read by envoy.filters.http.cors through Route.config()
            "cors",
            // gRPC timeouts, read by the router
            "max_grpc_timeout", "grpc_timeout_offset", "max_stream_duration");
    private static final Set<String> ACTION_HARMLESS = Set.of("priority", "rate_limits", "include_vh_rate_limits",
            "hash_policy", "early_data_policy");
    private static final Set<String> WEIGHT_FIELDS = Set.of("name", "cluster_header", "weight",
            "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
            "response_headers_to_remove", "typed_per_filter_config", "host_rewrite_literal");

    private final RouteConfiguration config;
    private final String path;
    private final FactoryContext context;
    private final boolean mostSpecificWins;
    private final long maxBodyBytes;
    private final Set<String> clusterNames;
    private HeaderMutations configRequest;
    private HeaderMutations configResponse;
    private FilterConfigs configFilterConfigs;

    RouteCompiler(RouteConfiguration config, String path, FactoryContext context) {
        this.config = config;
        this.path = path;
        this.context = context;
        this.mostSpecificWins = config.getMostSpecificHeaderMutationsWins();
        this.maxBodyBytes = config.hasMaxDirectResponseBodySizeBytes()
                ? Integer.toUnsignedLong(config.getMaxDirectResponseBodySizeBytes().getValue()) : 4096;
        boolean validate = !config.hasValidateClusters() || config.getValidateClusters().getValue();
        ClusterManager cm = validate ? context.clusterManager() : null;
        this.clusterNames = cm == null ? null : cm.clusterNames();
    }

    RouteTable compile() {
        ConfigFields.check(config, path, CONFIG_FIELDS, Set.of("metadata"));
        configRequest = HeaderMutations.compile(config.getRequestHeadersToAddList(),
                config.getRequestHeadersToRemoveList(), p("request_"), true);
        configResponse = HeaderMutations.compile(config.getResponseHeadersToAddList(),
                config.getResponseHeadersToRemoveList(), p("response_"), false);
        configFilterConfigs = FilterConfigs.NONE.over(
                perFilterConfigs(config.getTypedPerFilterConfigMap(), p("typed_per_filter_config")));
        List<String> internalOnly = new ArrayList<>();
        for (int i = 0; i < config.getInternalOnlyHeadersCount(); i++) {
            String h = config.getInternalOnlyHeaders(i).toLowerCase(Locale.ROOT);
            if (h.isEmpty() || h.startsWith(":") || h.equals("host")) {
                throw ConfigException.at(p("internal_only_headers[" + i + "]"),
                        ConfigFields.quote(h) + " (expected: a header name, not a pseudo-header or host)");
            }
            internalOnly.add(h);
        }

        Map<String, RouteTable.VirtualHostRoutes> exact = new HashMap<>();
        List<RouteTable.Wildcard> suffixes = new ArrayList<>();
        List<RouteTable.Wildcard> prefixes = new ArrayList<>();
        RouteTable.VirtualHostRoutes defaultVh = null;
        Map<String, String> seen = new HashMap<>();
        for (int v = 0; v < config.getVirtualHostsCount(); v++) {
            String vp = p("virtual_hosts[" + v + "]");
            VirtualHost vhc = config.getVirtualHosts(v);
            RouteTable.VirtualHostRoutes vh = virtualHost(vhc, vp);
            if (vhc.getDomainsCount() == 0) {
                throw ConfigException.at(vp + ".domains", "[] (expected: at least one domain)");
            }
            for (int d = 0; d < vhc.getDomainsCount(); d++) {
                String dp = vp + ".domains[" + d + "]";
                String domain = vhc.getDomains(d).toLowerCase(Locale.ROOT);
                if (domain.isEmpty()) {
                    throw ConfigException.at(dp, "\"\" (expected: non-empty)");
                }
                String previous = seen.putIfAbsent(domain, vp);
                if (previous != null) {
                    throw ConfigException.at(dp, ConfigFields.quote(domain)
                            + " (expected: unique domains; already in " + previous + ")");
                }
                int star = domain.indexOf('*');
                if (domain.equals("*")) {
                    defaultVh = vh;
                } else if (star < 0) {
                    exact.put(domain, vh);
                } else if (star == 0 && domain.indexOf('*', 1) < 0) {
                    suffixes.add(new RouteTable.Wildcard(domain.substring(1), vh));
                } else if (star == domain.length() - 1) {
                    prefixes.add(new RouteTable.Wildcard(domain.substring(0, star), vh));
                } else {
                    throw ConfigException.at(dp, ConfigFields.quote(domain)
                            + " (expected: * only as the whole domain, its first or its last character)");
                }
            }
        }
        Comparator<RouteTable.Wildcard> longestFirst = Comparator.comparingInt(w -> -w.text().length());
        suffixes.sort(longestFirst);
        prefixes.sort(longestFirst);
        return new RouteTable(exact, suffixes.toArray(new RouteTable.Wildcard[0]),
                prefixes.toArray(new RouteTable.Wildcard[0]), defaultVh, internalOnly);
    }

    private RouteTable.VirtualHostRoutes virtualHost(VirtualHost vhc, String vp) {
        ConfigFields.check(vhc, vp, VHOST_FIELDS, VHOST_HARMLESS);
        if (vhc.getName().isEmpty()) {
            throw ConfigException.at(vp + ".name", "\"\" (expected: non-empty)");
        }
        HeaderMutations vhRequest = HeaderMutations.compile(vhc.getRequestHeadersToAddList(),
                vhc.getRequestHeadersToRemoveList(), vp + ".request_", true);
        HeaderMutations vhResponse = HeaderMutations.compile(vhc.getResponseHeadersToAddList(),
                vhc.getResponseHeadersToRemoveList(), vp + ".response_", false);
        FilterConfigs vhFilterConfigs = configFilterConfigs.over(
                perFilterConfigs(vhc.getTypedPerFilterConfigMap(), vp + ".typed_per_filter_config"));
        RetryPolicy vhRetry = vhc.hasRetryPolicy() ? Retries.compile(vhc.getRetryPolicy(), vp + ".retry_policy") : null;
        if (vhc.getRequireTls() == VirtualHost.TlsRequirementType.UNRECOGNIZED) {
            throw ConfigException.at(vp + ".require_tls", "unknown value");
        }

        CompiledRoute[] routes = new CompiledRoute[vhc.getRoutesCount()];
        for (int r = 0; r < routes.length; r++) {
            routes[r] = route(vhc.getRoutes(r), vhc, vp + ".routes[" + r + "]", vhRequest, vhResponse,
                    vhFilterConfigs, vhRetry);
        }
        CompiledRoute tlsRedirect = null;
        if (vhc.getRequireTls() != VirtualHost.TlsRequirementType.NONE) {
            LocalReplyEntry https = new LocalReplyEntry(301, "",
                    new LocalReplyEntry.Redirect("https", null, null, null, false, null, null, false),
                    new HeaderMutations[0]);
            tlsRedirect = new CompiledRoute(Route.getDefaultInstance(), vhc, null, null, https, FilterConfigs.NONE,
                    CompiledRoute.ClusterKind.NONE, null, null, 0, null);
        }
        return new RouteTable.VirtualHostRoutes(vhc.getName(), vhc, routes, vhc.getRequireTls(), tlsRedirect);
    }

    private CompiledRoute route(Route rc, VirtualHost vhc, String rp, HeaderMutations vhRequest,
                                HeaderMutations vhResponse, FilterConfigs vhFilterConfigs, RetryPolicy vhRetry) {
        ConfigFields.check(rc, rp, ROUTE_FIELDS, ROUTE_HARMLESS);
        if (!rc.hasMatch()) {
            throw ConfigException.at(rp + ".match", "missing (expected: a route match)");
        }
        CompiledMatch match = CompiledMatch.compile(rc.getMatch(), rp + ".match");
        HeaderMutations routeRequest = HeaderMutations.compile(rc.getRequestHeadersToAddList(),
                rc.getRequestHeadersToRemoveList(), rp + ".request_", true);
        HeaderMutations routeResponse = HeaderMutations.compile(rc.getResponseHeadersToAddList(),
                rc.getResponseHeadersToRemoveList(), rp + ".response_", false);
        HeaderMutations[] requestChain = mostSpecificWins
                ? HeaderMutations.chain(configRequest, vhRequest, routeRequest)
                : HeaderMutations.chain(routeRequest, vhRequest, configRequest);
        HeaderMutations[] responseChain = mostSpecificWins
                ? HeaderMutations.chain(configResponse, vhResponse, routeResponse)
                : HeaderMutations.chain(routeResponse, vhResponse, configResponse);
        FilterConfigs filterConfigs = vhFilterConfigs.over(
                perFilterConfigs(rc.getTypedPerFilterConfigMap(), rp + ".typed_per_filter_config"));

        switch (rc.getActionCase()) {
            case ROUTE:
                return forwarding(rc, vhc, rp, match, requestChain, responseChain, filterConfigs, vhRetry);
            case REDIRECT: {
                LocalReplyEntry e = redirect(rc.getRedirect(), rp + ".redirect", match, responseChain);
                return new CompiledRoute(rc, vhc, match, null, e, filterConfigs, CompiledRoute.ClusterKind.NONE,
                        null, null, 0, null);
            }
            case DIRECT_RESPONSE: {
                LocalReplyEntry e = directResponse(rc.getDirectResponse(), rp + ".direct_response", responseChain);
                return new CompiledRoute(rc, vhc, match, null, e, filterConfigs, CompiledRoute.ClusterKind.NONE,
                        null, null, 0, null);
            }
            default:
                throw ConfigException.at(rp, "missing action (expected: one of route, redirect, direct_response)");
        }
    }

    /**
     * {@code route.upgrade_configs} (Envoy's {@code RouteEntryImplBase::upgrade_map_}): lower-case type to
     * {@code enabled} (default true). CONNECT ({@code connect_config}) is not supported yet.
     */
    private static Map<String, Boolean> upgradeMap(RouteAction a, String ap) {
        if (a.getUpgradeConfigsCount() == 0) {
            return Map.of();
        }
        Map<String, Boolean> upgrades = new LinkedHashMap<>();
        for (int i = 0; i < a.getUpgradeConfigsCount(); i++) {
            RouteAction.UpgradeConfig u = a.getUpgradeConfigs(i);
            String up = ap + ".upgrade_configs[" + i + "]";
            String type = u.getUpgradeType().trim().toLowerCase(Locale.ROOT);
            if (type.isEmpty()) {
                throw ConfigException.at(up + ".upgrade_type", "\"\" (expected: non-empty, e.g. websocket)");
            }
            if (type.equals("connect")) {
                throw ConfigException.at(up + ".upgrade_type", ConfigFields.quote(u.getUpgradeType())
                        + " is not supported yet");
            }
            if (u.hasConnectConfig()) {
                throw ConfigException.at(up + ".connect_config",
                        "Non-CONNECT upgrade type " + u.getUpgradeType() + " has ConnectConfig");
            }
            ConfigFields.check(u, up, Set.of("upgrade_type", "enabled"), Set.of());
            if (upgrades.put(type, !u.hasEnabled() || u.getEnabled().getValue()) != null) {
                throw ConfigException.at(up + ".upgrade_type", "Duplicate upgrade " + u.getUpgradeType());
            }
        }
        return Map.copyOf(upgrades);
    }

    private CompiledRoute forwarding(Route rc, VirtualHost vhc, String rp, CompiledMatch match,
                                     HeaderMutations[] requestChain, HeaderMutations[] responseChain,
                                     FilterConfigs filterConfigs, RetryPolicy vhRetry) {
        RouteAction a = rc.getRoute();
        String ap = rp + ".route";
        ConfigFields.check(a, ap, ACTION_FIELDS, ACTION_HARMLESS);
        int notFound = switch (a.getClusterNotFoundResponseCode()) {
            case SERVICE_UNAVAILABLE -> 503;
            case NOT_FOUND -> 404;
            case INTERNAL_SERVER_ERROR -> 500;
            default -> throw ConfigException.at(ap + ".cluster_not_found_response_code", "unknown value");
        };
        if (!a.getPrefixRewrite().isEmpty() && a.hasRegexRewrite()) {
            throw ConfigException.at(ap, "both prefix_rewrite and regex_rewrite are set (expected: at most one)");
        }
        PathRewriter rewriter = null;
        if (!a.getPrefixRewrite().isEmpty()) {
            rewriter = PathRewriter.prefix(a.getPrefixRewrite());
        } else if (a.hasRegexRewrite()) {
            rewriter = PathRewriter.regex(a.getRegexRewrite(), ap + ".regex_rewrite");
        }
        long timeout = a.hasTimeout() ? ConfigFields.millis(a.getTimeout(), ap + ".timeout") : 15_000;
        long idle = a.hasIdleTimeout() ? ConfigFields.millis(a.getIdleTimeout(), ap + ".idle_timeout") : -1;
        RetryPolicy retry = a.hasRetryPolicy() ? Retries.compile(a.getRetryPolicy(), ap + ".retry_policy")
                : vhRetry != null ? vhRetry : RetryPolicy.NONE;
        String hostLiteral = a.getHostRewriteLiteral().isEmpty() ? null : a.getHostRewriteLiteral();
        String hostHeader = a.getHostRewriteHeader().isEmpty() ? null : a.getHostRewriteHeader().toLowerCase(Locale.ROOT);
        boolean autoHost = a.hasAutoHostRewrite() && a.getAutoHostRewrite().getValue();
        ForwardingEntry.Action action = new ForwardingEntry.Action(notFound, timeout, idle, retry, autoHost, hostLiteral,
                hostHeader, a.getAppendXForwardedHost(), rewriter, match, requestChain, responseChain,
                grpcTimeouts(a, ap), upgradeMap(a, ap));

        switch (a.getClusterSpecifierCase()) {
            case CLUSTER: {
                String cluster = a.getCluster();
                if (cluster.isEmpty()) {
                    throw ConfigException.at(ap + ".cluster", "\"\" (expected: a cluster name)");
                }
                checkCluster(cluster, ap + ".cluster");
                return new CompiledRoute(rc, vhc, match, new ForwardingEntry(action, cluster, null), null,
                        filterConfigs, CompiledRoute.ClusterKind.STATIC, null, null, 0, null);
            }
            case CLUSTER_HEADER: {
                String header = a.getClusterHeader().toLowerCase(Locale.ROOT);
                if (header.isEmpty()) {
                    throw ConfigException.at(ap + ".cluster_header", "\"\" (expected: a header name)");
                }
                return new CompiledRoute(rc, vhc, match, new ForwardingEntry(action, null, null), null,
                        filterConfigs, CompiledRoute.ClusterKind.HEADER, header, null, 0, null);
            }
            case WEIGHTED_CLUSTERS:
                return weighted(rc, vhc, ap + ".weighted_clusters", a.getWeightedClusters(), match, action,
                        filterConfigs);
            default:
                throw ConfigException.at(ap, "missing cluster specifier (expected: one of cluster, cluster_header, "
                        + "weighted_clusters)");
        }
    }

    /**
     * {@code max_grpc_timeout}, {@code grpc_timeout_offset} and {@code max_stream_duration} (Envoy's
     * {@code RouteEntryImplBase} constructor: each optional; {@code max_stream_duration} set at all switches the
     * route to the stream-duration timeouts).
     */
    @SuppressWarnings("deprecation") // max_grpc_timeout and grpc_timeout_offset are deprecated, still Envoy config
    private static ForwardingEntry.GrpcTimeouts grpcTimeouts(RouteAction a, String ap) {
        if (!a.hasMaxGrpcTimeout() && !a.hasGrpcTimeoutOffset() && !a.hasMaxStreamDuration()) {
            return ForwardingEntry.GrpcTimeouts.NONE;
        }
        long maxGrpc = a.hasMaxGrpcTimeout() ? ConfigFields.millis(a.getMaxGrpcTimeout(), ap + ".max_grpc_timeout") : -1;
        long offset = a.hasGrpcTimeoutOffset()
                ? ConfigFields.millis(a.getGrpcTimeoutOffset(), ap + ".grpc_timeout_offset") : 0;
        RouteEntry.MaxStreamDuration duration = null;
        if (a.hasMaxStreamDuration()) {
            RouteAction.MaxStreamDuration d = a.getMaxStreamDuration();
            String dp = ap + ".max_stream_duration";
            duration = new RouteEntry.MaxStreamDuration(
                    d.hasMaxStreamDuration() ? ConfigFields.millis(d.getMaxStreamDuration(), dp + ".max_stream_duration") : -1,
                    d.hasGrpcTimeoutHeaderMax()
                            ? ConfigFields.millis(d.getGrpcTimeoutHeaderMax(), dp + ".grpc_timeout_header_max") : -1,
                    d.hasGrpcTimeoutHeaderOffset()
                            ? ConfigFields.millis(d.getGrpcTimeoutHeaderOffset(), dp + ".grpc_timeout_header_offset") : -1);
        }
        return new ForwardingEntry.GrpcTimeouts(maxGrpc, offset, duration);
    }

    @SuppressWarnings("deprecation") // total_weight is deprecated but still Envoy config
    private CompiledRoute weighted(Route rc, VirtualHost vhc, String wp, WeightedCluster wc, CompiledMatch match,
                                   ForwardingEntry.Action action, FilterConfigs filterConfigs) {
        ConfigFields.check(wc, wp, Set.of("clusters", "total_weight", "header_name"), Set.of("runtime_key_prefix"));
        if (wc.getClustersCount() == 0) {
            throw ConfigException.at(wp + ".clusters", "[] (expected: at least one cluster)");
        }
        ForwardingEntry.WeightedTarget[] targets = new ForwardingEntry.WeightedTarget[wc.getClustersCount()];
        long total = 0;
        for (int i = 0; i < targets.length; i++) {
            String cp = wp + ".clusters[" + i + "]";
            WeightedCluster.ClusterWeight cw = wc.getClusters(i);
            ConfigFields.check(cw, cp, WEIGHT_FIELDS, Set.of());
            boolean hasName = !cw.getName().isEmpty();
            boolean hasHeader = !cw.getClusterHeader().isEmpty();
            if (hasName == hasHeader) {
                throw ConfigException.at(cp, "(expected: exactly one of name, cluster_header)");
            }
            if (hasName) {
                checkCluster(cw.getName(), cp + ".name");
            }
            long weight = Integer.toUnsignedLong(cw.getWeight().getValue());
            total += weight;
            Map<String, Object> own = perFilterConfigs(cw.getTypedPerFilterConfigMap(), cp + ".typed_per_filter_config");
            targets[i] = new ForwardingEntry.WeightedTarget(hasName ? cw.getName() : null,
                    hasHeader ? cw.getClusterHeader().toLowerCase(Locale.ROOT) : null, weight,
                    HeaderMutations.compile(cw.getRequestHeadersToAddList(), cw.getRequestHeadersToRemoveList(),
                            cp + ".request_", true),
                    HeaderMutations.compile(cw.getResponseHeadersToAddList(), cw.getResponseHeadersToRemoveList(),
                            cp + ".response_", false),
                    cw.getHostRewriteLiteral().isEmpty() ? null : cw.getHostRewriteLiteral(), filterConfigs.over(own));
        }
        if (total <= 0 || total > 0xFFFF_FFFFL) {
            throw ConfigException.at(wp + ".clusters", "total weight " + total + " (expected: > 0 and < 2^32)");
        }
        if (wc.hasTotalWeight() && Integer.toUnsignedLong(wc.getTotalWeight().getValue()) != total) {
            throw ConfigException.at(wp + ".total_weight", Integer.toUnsignedLong(wc.getTotalWeight().getValue())
                    + " (expected: the sum of the clusters' weights, " + total + ")");
        }
        String header = wc.getHeaderName().isEmpty() ? null : wc.getHeaderName().toLowerCase(Locale.ROOT);
        return new CompiledRoute(rc, vhc, match, new ForwardingEntry(action, null, null), null, filterConfigs,
                CompiledRoute.ClusterKind.WEIGHTED, null, targets, total, header);
    }

    private LocalReplyEntry redirect(RedirectAction r, String rp, CompiledMatch match, HeaderMutations[] responseChain) {
        int code = switch (r.getResponseCode()) {
            case MOVED_PERMANENTLY -> 301;
            case FOUND -> 302;
            case SEE_OTHER -> 303;
            case TEMPORARY_REDIRECT -> 307;
            case PERMANENT_REDIRECT -> 308;
            default -> throw ConfigException.at(rp + ".response_code", "unknown value");
        };
        String scheme = null;
        if (r.getSchemeRewriteSpecifierCase() == RedirectAction.SchemeRewriteSpecifierCase.HTTPS_REDIRECT
                && r.getHttpsRedirect()) {
            scheme = "https";
        } else if (!r.getSchemeRedirect().isEmpty()) {
            scheme = r.getSchemeRedirect().toLowerCase(Locale.ROOT);
        }
        String host = r.getHostRedirect().isEmpty() ? null : r.getHostRedirect();
        String port = null;
        if (r.getPortRedirect() != 0) {
            if (r.getPortRedirect() > 65535) {
                throw ConfigException.at(rp + ".port_redirect", r.getPortRedirect() + " (expected: <= 65535)");
            }
            port = ":" + r.getPortRedirect();
        }
        String pathRedirect = null;
        PathRewriter rewriter = null;
        switch (r.getPathRewriteSpecifierCase()) {
            case PATH_REDIRECT -> pathRedirect = r.getPathRedirect();
            case PREFIX_REWRITE -> rewriter = PathRewriter.prefix(r.getPrefixRewrite());
            case REGEX_REWRITE -> rewriter = PathRewriter.regex(r.getRegexRewrite(), rp + ".regex_rewrite");
            default -> { }
        }
        boolean hasQuery = pathRedirect != null && pathRedirect.indexOf('?') >= 0;
        return new LocalReplyEntry(code, "", new LocalReplyEntry.Redirect(scheme, host, port, pathRedirect, hasQuery,
                rewriter, match, r.getStripQuery()), responseChain);
    }

    private LocalReplyEntry directResponse(DirectResponseAction d, String dp, HeaderMutations[] responseChain) {
        ConfigFields.check(d, dp, Set.of("status", "body"), Set.of());
        int status = d.getStatus();
        if (status < 200 || status >= 600) {
            throw ConfigException.at(dp + ".status", Integer.toUnsignedString(status) + " (expected: >= 200 and < 600)");
        }
        String body = d.hasBody() ? DataSources.read(d.getBody(), context.configDirectory(), dp + ".body", true) : "";
        long size = body.getBytes(StandardCharsets.UTF_8).length;
        if (size > maxBodyBytes) {
            throw ConfigException.at(dp + ".body", size + " bytes (expected: <= max_direct_response_body_size_bytes, "
                    + maxBodyBytes + ")");
        }
        return new LocalReplyEntry(status, body, null, responseChain);
    }

    private void checkCluster(String name, String cp) {
        if (clusterNames != null && !clusterNames.contains(name)) {
            throw ConfigException.at(cp, ConfigFields.quote(name)
                    + " (expected: a cluster of static_resources.clusters; or set validate_clusters: false)");
        }
    }

    /** Binds a {@code typed_per_filter_config} map, unwrapping {@code config.route.v3.FilterConfig}. */
    private Map<String, Object> perFilterConfigs(Map<String, Any> configs, String mp) {
        if (configs.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Any> e : configs.entrySet()) {
            String name = e.getKey();
            String ep = mp + "[\"" + name + "\"]";
            Any any = e.getValue();
            boolean optional = false;
            if (FILTER_CONFIG_TYPE.equals(any.getTypeUrl())) {
                FilterConfig fc;
                try {
                    fc = any.unpack(FilterConfig.class);
                } catch (InvalidProtocolBufferException ex) {
                    throw ConfigException.at(ep, "not a valid FilterConfig: " + ex.getMessage());
                }
                if (fc.getDisabled()) {
                    throw ConfigFields.unsupported(ep + ".disabled");
                }
                optional = fc.getIsOptional();
                any = fc.getConfig();
            }
            try {
                Object bound = context.perFilterConfig(name, any, ep);
                if (bound != null) {
                    out.put(name, bound);
                }
            } catch (ConfigException ex) {
                if (!optional) {
                    throw ex;
                }
                logger.warn("{}: optional per-filter config skipped: {}", ep, ex.getMessage());
            }
        }
        return out;
    }

    private String p(String field) {
        return ConfigFields.join(path, field);
    }
}
