package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.RouteEntry;
import java.util.Map;

/**
 * A route that forwards upstream, compiled from {@code RouteAction} (Envoy's {@code RouteEntryImplBase}).
 * The action's settings live in a shared {@link Action}; an entry adds the cluster chosen for one request
 * (the same entry serves every request for a plain {@code cluster}; {@code cluster_header} and
 * {@code weighted_clusters} make a small entry per request). Immutable; thread-safe.
 */
final class ForwardingEntry implements RouteEntry {

    /** The compiled {@code RouteAction} plus the header rules of the three levels, in application order. */
    record Action(int clusterNotFoundResponseCode, long timeoutMillis, long idleTimeoutMillis, RetryPolicy retryPolicy,
                  boolean autoHostRewrite, String hostRewriteLiteral, String hostRewriteHeader,
                  boolean appendXForwardedHost, PathRewriter pathRewriter, CompiledMatch match,
                  HeaderMutations[] requestMutations, HeaderMutations[] responseMutations,
                  GrpcTimeouts grpcTimeouts, Map<String, Boolean> upgradeMap) {
    }

    /**
     * The gRPC and stream-duration timeouts of a {@code RouteAction}: {@code max_grpc_timeout} and
     * {@code grpc_timeout_offset} (-1 / 0 when unset), and {@code max_stream_duration} ({@code null} when unset).
     */
    record GrpcTimeouts(long maxGrpcTimeoutMillis, long grpcTimeoutOffsetMillis,
                        RouteEntry.MaxStreamDuration maxStreamDuration) {
        static final GrpcTimeouts NONE = new GrpcTimeouts(-1, 0, null);
    }

    /**
     * One {@code weighted_clusters.clusters[]} entry; {@code filterConfigs} are its own
     * {@code typed_per_filter_config} over the route's.
     */
    record WeightedTarget(String name, String clusterHeader, long weight, HeaderMutations requestMutations,
                          HeaderMutations responseMutations, String hostRewriteLiteral,
                          FilterConfigs filterConfigs) {
    }

    static final String ORIGINAL_PATH = "x-envoy-original-path";
    private static final String FORWARDED_HOST = "x-forwarded-host";

    private final Action action;
    private final String clusterName;
    private final WeightedTarget target;

    ForwardingEntry(Action action, String clusterName, WeightedTarget target) {
        this.action = action;
        this.clusterName = clusterName;
        this.target = target;
    }

    Action action() {
        return action;
    }

    WeightedTarget target() {
        return target;
    }

    // RouteEntry

    @Override
    public String clusterName() {
        return clusterName;
    }

    @Override
    public int clusterNotFoundResponseCode() {
        return action.clusterNotFoundResponseCode();
    }

    @Override
    public long timeoutMillis() {
        return action.timeoutMillis();
    }

    @Override
    public long idleTimeoutMillis() {
        return action.idleTimeoutMillis();
    }

    @Override
    public RetryPolicy retryPolicy() {
        return action.retryPolicy();
    }

    @Override
    public boolean autoHostRewrite() {
        return action.autoHostRewrite();
    }

    @Override
    public long maxGrpcTimeoutMillis() {
        return action.grpcTimeouts().maxGrpcTimeoutMillis();
    }

    @Override
    public long grpcTimeoutOffsetMillis() {
        return action.grpcTimeouts().grpcTimeoutOffsetMillis();
    }

    @Override
    public MaxStreamDuration maxStreamDuration() {
        return action.grpcTimeouts().maxStreamDuration();
    }

    /** {@code upgrade_configs} of the route: lower-case type to {@code enabled}. */
    @Override
    public Map<String, Boolean> upgradeMap() {
        return action.upgradeMap();
    }

    /**
     * Envoy's order: the weighted cluster's rules and host rewrite, then the three levels' header rules
     * (route, virtual host, route configuration by default; reversed by
     * {@code most_specific_header_mutations_wins}), then the host rewrite, then the path rewrite (the old
     * path kept in {@code x-envoy-original-path}).
     */
    @Override
    public void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo) {
        if (target != null) {
            target.requestMutations().apply(headers, streamInfo, headers);
            if (target.hostRewriteLiteral() != null) {
                rewriteHost(headers, target.hostRewriteLiteral());
            }
        }
        HeaderMutations.applyAll(action.requestMutations(), headers, streamInfo, headers);
        if (action.hostRewriteLiteral() != null) {
            rewriteHost(headers, action.hostRewriteLiteral());
        } else if (action.hostRewriteHeader() != null) {
            String host = headers.get(action.hostRewriteHeader());
            if (host != null && !host.isEmpty()) {
                rewriteHost(headers, host);
            }
        }
        PathRewriter rewriter = action.pathRewriter();
        if (rewriter != null) {
            String path = headers.path();
            if (path != null) {
                String rewritten = rewriter.rewrite(path, action.match().matchedLength(path));
                headers.set(ORIGINAL_PATH, path);
                headers.set(HeaderMap.PATH, rewritten);
            }
        }
    }

    @Override
    public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
        if (target != null) {
            target.responseMutations().apply(headers, streamInfo, null);
        }
        HeaderMutations.applyAll(action.responseMutations(), headers, streamInfo, null);
    }

    private void rewriteHost(HeaderMap headers, String host) {
        if (action.appendXForwardedHost()) {
            String original = headers.authority();
            if (original != null && !original.isEmpty()) {
                String xfh = headers.get(FORWARDED_HOST);
                headers.set(FORWARDED_HOST, xfh == null || xfh.isEmpty() ? original : xfh + "," + original);
            }
        }
        headers.set(HeaderMap.AUTHORITY, host);
    }
}
