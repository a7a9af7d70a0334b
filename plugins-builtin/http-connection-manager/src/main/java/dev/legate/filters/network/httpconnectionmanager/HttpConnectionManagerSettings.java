package dev.legate.filters.network.httpconnectionmanager;

import static java.util.Objects.requireNonNull;

import dev.legate.api.AccessLogger;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.CodecType;
import dev.legate.api.http.Http2Options;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.http.Route;
import dev.legate.api.stats.Stats;
import dev.legate.filters.network.httpconnectionmanager.route.IpAddresses;
import dev.legate.filters.network.httpconnectionmanager.route.RouteTable;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The compiled {@code HttpConnectionManager} of one listener: limits and timeouts for the host's codec, the
 * HTTP filter chain, the route table, and the HCM's header policy (Envoy's {@code ConnectionManagerUtility}
 * and {@code ActiveStream::encodeHeaders} base headers). Immutable and shared by every event loop; the hooks
 * run on the stream's loop, lock-free, and never throw because of traffic.
 */
public final class HttpConnectionManagerSettings implements HttpConnectionManagerConfig {

    static final String X_FORWARDED_FOR = "x-forwarded-for";
    static final String X_FORWARDED_PROTO = "x-forwarded-proto";
    static final String X_REQUEST_ID = "x-request-id";
    static final String X_ENVOY_INTERNAL = "x-envoy-internal";
    static final String X_ENVOY_EXTERNAL_ADDRESS = "x-envoy-external-address";
    static final String X_FORWARDED_CLIENT_CERT = "x-forwarded-client-cert";

    /** Removed from edge requests (Envoy's {@code cleanInternalHeaders}, §1.6). */
    static final List<String> EXTERNAL_ONLY_STRIPPED = List.of(
            "x-envoy-decorator-operation", "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node",
            "x-envoy-expected-rq-timeout-ms", "x-envoy-external-address", "x-envoy-force-trace", "x-envoy-ip-tags",
            "x-envoy-max-retries", "x-envoy-retry-grpc-on", "x-envoy-retry-on", "x-envoy-upstream-alt-stat-name",
            "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-upstream-rq-timeout-alt-response",
            "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-stream-duration-ms",
            "x-envoy-hedge-on-per-try-timeout", "x-envoy-retriable-status-codes",
            "x-envoy-retriable-header-names");

    /** The settings the factory compiled; see {@link HttpConnectionManagerFilterFactory} for each field. */
    record Options(
            Stats stats,
            CodecType codecType,
            int maxRequestHeadersBytes,
            int maxHeadersCount,
            long streamIdleTimeoutMillis,
            long requestTimeoutMillis,
            long connectionIdleTimeoutMillis,
            boolean proxy100Continue,
            List<HttpFilterChainEntry> filterChain,
            RouteTable routeTable,
            AccessLogger accessLogger,
            boolean useRemoteAddress,
            int xffNumTrustedHops,
            boolean skipXffAppend,
            String via,
            boolean generateRequestId,
            boolean preserveExternalRequestId,
            boolean alwaysSetRequestIdInResponse,
            String serverName,
            ServerHeaderTransformation serverHeaderTransformation,
            List<IpAddresses.Cidr> internalAddresses,
            boolean normalizePath,
            boolean mergeSlashes,
            boolean stripAnyHostPort,
            boolean stripMatchingHostPort,
            boolean stripTrailingHostDot,
            boolean sanitizeClientCert,
            String userAgent,
            String serviceNode) {

        Options {
            requireNonNull(stats, "stats");
            requireNonNull(codecType, "codecType");
            filterChain = List.copyOf(filterChain);
            requireNonNull(routeTable, "routeTable");
            requireNonNull(accessLogger, "accessLogger");
            requireNonNull(serverName, "serverName");
            requireNonNull(serverHeaderTransformation, "serverHeaderTransformation");
            internalAddresses = internalAddresses == null ? null : List.copyOf(internalAddresses);
        }
    }

    private final Options o;
    private final Http2Options http2;
    private final long drainTimeoutMillis;
    /** {@code upgrade_configs}: lower-case upgrade type to {@code enabled}. */
    private final Map<String, Boolean> upgradeConfigs;

    HttpConnectionManagerSettings(Options options) {
        this(options, Http2Options.DEFAULTS, 5000, Map.of());
    }

    HttpConnectionManagerSettings(Options options, Http2Options http2, long drainTimeoutMillis,
                                  Map<String, Boolean> upgradeConfigs) {
        this.o = requireNonNull(options, "options");
        this.http2 = requireNonNull(http2, "http2");
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.upgradeConfigs = Map.copyOf(requireNonNull(upgradeConfigs, "upgradeConfigs"));
    }

    /** {@code http2_protocol_options}, Envoy's defaults for unset fields ({@code max_concurrent_streams} 1024). */
    @Override
    public Http2Options http2Options() {
        return http2;
    }

    /** {@code drain_timeout} in ms (5000 by default). */
    @Override
    public long drainTimeoutMillis() {
        return drainTimeoutMillis;
    }

    /** The route table (for tests and tools). */
    public RouteTable routeTable() {
        return o.routeTable();
    }

    // HttpConnectionManagerConfig

    @Override
    public Stats stats() {
        return o.stats();
    }

    @Override
    public CodecType codecType() {
        return o.codecType();
    }

    @Override
    public int maxRequestHeadersBytes() {
        return o.maxRequestHeadersBytes();
    }

    @Override
    public int maxHeadersCount() {
        return o.maxHeadersCount();
    }

    @Override
    public long streamIdleTimeoutMillis() {
        return o.streamIdleTimeoutMillis();
    }

    @Override
    public long requestTimeoutMillis() {
        return o.requestTimeoutMillis();
    }

    @Override
    public long connectionIdleTimeoutMillis() {
        return o.connectionIdleTimeoutMillis();
    }

    @Override
    public boolean proxy100Continue() {
        return o.proxy100Continue();
    }

    @Override
    public List<HttpFilterChainEntry> filterChain() {
        return o.filterChain();
    }

    /**
     * The HCM's {@code upgrade_configs}: upgrade type (trimmed, lower-case, as the route's
     * {@code upgrade_configs} keys are) to {@code enabled} (default true); empty when none are configured.
     * Immutable, shared across event loops; the host matches it against
     * {@link dev.legate.api.http.HttpUpgrades#upgradeType} after the route's own map.
     */
    @Override
    public Map<String, Boolean> upgradeConfigs() {
        return upgradeConfigs;
    }

    @Override
    public Route route(HeaderMap requestHeaders, StreamInfo streamInfo) {
        return o.routeTable().route(requestHeaders);
    }

    /**
     * Envoy's {@code maybeNormalizePath}, {@code maybeNormalizeHost} and {@code mutateRequestHeaders}
     * (§1.4–1.6), in that order. The host calls it once per request, before the route lookup and the first
     * decoder filter:
     * <ul>
     *   <li>{@code merge_slashes}, {@code normalize_path} (dot segments) on {@code :path};
     *       {@code strip_trailing_host_dot}, {@code strip_any_host_port}/{@code strip_matching_host_port} on
     *       {@code :authority};</li>
     *   <li>the trusted client address from {@code use_remote_address}/{@code xff_num_trusted_hops}; the peer
     *       appended to {@code x-forwarded-for} (unless {@code skip_xff_append}); {@code x-forwarded-proto}
     *       ({@code http}: no TLS yet) and {@code :scheme} when absent;</li>
     *   <li>internal (trusted address internal and XFF held one address, or none with
     *       {@code use_remote_address}) → {@code x-envoy-internal: true}; otherwise it is removed with the
     *       route configuration's {@code internal_only_headers}, and for edge requests
     *       ({@code use_remote_address} and not internal) the external-only {@code x-envoy-*} headers are
     *       stripped and {@code x-envoy-external-address} set;</li>
     *   <li>{@code x-request-id}: a UUIDv4 when absent, or always for an edge request unless
     *       {@code preserve_external_request_id}; {@code x-forwarded-client-cert} removed (no mTLS);
     *       {@code via} appended.</li>
     * </ul>
     */
    @Override
    public void mutateRequestHeaders(HeaderMap h, StreamInfo info) {
        normalizePath(h);
        normalizeHost(h, info);

        InetSocketAddress peer = info.downstreamRemoteAddress();
        InetAddress peerIp = peer == null ? null : peer.getAddress();
        h.remove(X_ENVOY_INTERNAL);

        String xff = joined(h, X_FORWARDED_FOR);
        InetAddress finalRemote = null;
        boolean allowTrustedAddressChecks;
        int hops = o.xffNumTrustedHops();
        if (o.useRemoteAddress()) {
            allowTrustedAddressChecks = xff == null;
            if (hops > 0) {
                finalRemote = ForwardedFor.lastAddress(xff, hops - 1).address();
            }
            if (finalRemote == null) {
                finalRemote = peerIp;
            }
            if (!o.skipXffAppend() && peerIp != null) {
                InetAddress appended = peerIp;
                InetSocketAddress local = info.downstreamLocalAddress();
                if (peerIp.isLoopbackAddress() && local != null && local.getAddress() != null) {
                    appended = local.getAddress();
                }
                String ip = IpAddresses.toText(appended);
                h.set(X_FORWARDED_FOR, xff == null || xff.isEmpty() ? ip : xff + "," + ip);
            }
            if (hops == 0 || !h.contains(X_FORWARDED_PROTO)) {
                h.set(X_FORWARDED_PROTO, "http");
            }
        } else {
            ForwardedFor.Result r = ForwardedFor.lastAddress(xff, hops);
            finalRemote = r.address();
            allowTrustedAddressChecks = r.singleAddress();
        }
        if (!h.contains(X_FORWARDED_PROTO)) {
            h.set(X_FORWARDED_PROTO, "http");
        }
        String scheme = h.scheme();
        if (scheme == null || scheme.isEmpty()) {
            String xfp = h.get(X_FORWARDED_PROTO);
            h.set(HeaderMap.SCHEME, "https".equalsIgnoreCase(xfp) ? "https" : "http");
        }

        boolean internal = allowTrustedAddressChecks && finalRemote != null && isInternal(finalRemote);
        if (finalRemote == null) {
            finalRemote = peerIp;
        }
        boolean edge = !internal && o.useRemoteAddress();
        if (internal) {
            h.set(X_ENVOY_INTERNAL, "true");
        } else {
            if (edge) {
                for (String name : EXTERNAL_ONLY_STRIPPED) {
                    h.remove(name);
                }
            }
            for (String name : o.routeTable().internalOnlyHeaders()) {
                h.remove(name);
            }
        }
        if (o.userAgent() != null) {
            h.set("x-envoy-downstream-service-cluster", o.userAgent());
            String ua = h.get("user-agent");
            if (ua == null || ua.isEmpty()) {
                h.set("user-agent", o.userAgent());
            }
            if (o.serviceNode() != null && !o.serviceNode().isEmpty()) {
                h.set("x-envoy-downstream-service-node", o.serviceNode());
            }
        }
        if (edge && finalRemote != null) {
            h.set(X_ENVOY_EXTERNAL_ADDRESS, IpAddresses.toText(finalRemote));
        }
        if (o.generateRequestId()
                && ((edge && !o.preserveExternalRequestId()) || !h.contains(X_REQUEST_ID))) {
            h.set(X_REQUEST_ID, uuid4());
        }
        if (o.sanitizeClientCert()) {
            h.remove(X_FORWARDED_CLIENT_CERT);
        }
        if (o.via() != null) {
            appendVia(h, o.via());
        }
    }

    /**
     * {@code date} when absent (an upstream's is kept), {@code server} per
     * {@code server_header_transformation}, {@code x-request-id} copied from the request when
     * {@code always_set_request_id_in_response} (or {@code x-envoy-force-trace}), then {@code via}.
     */
    @Override
    public void mutateResponseHeaders(HeaderMap responseHeaders, HeaderMap requestHeaders, StreamInfo streamInfo) {
        if (!responseHeaders.contains("date")) {
            responseHeaders.set("date", DateHeader.format(System.currentTimeMillis()));
        }
        switch (o.serverHeaderTransformation()) {
            case APPEND_IF_ABSENT -> {
                if (!responseHeaders.contains("server")) {
                    responseHeaders.set("server", o.serverName());
                }
            }
            case PASS_THROUGH -> { }
            default -> responseHeaders.set("server", o.serverName());
        }
        if (requestHeaders != null
                && (o.alwaysSetRequestIdInResponse() || requestHeaders.contains("x-envoy-force-trace"))) {
            String id = requestHeaders.get(X_REQUEST_ID);
            if (id != null) {
                responseHeaders.set(X_REQUEST_ID, id);
            }
        }
        if (o.via() != null) {
            appendVia(responseHeaders, o.via());
        }
    }

    @Override
    public void onStreamComplete(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                                 StreamInfo streamInfo) {
        o.accessLogger().log(requestHeaders, responseHeaders, responseTrailers, streamInfo);
    }

    // Helpers

    private boolean isInternal(InetAddress address) {
        List<IpAddresses.Cidr> ranges = o.internalAddresses();
        if (ranges == null) {
            return IpAddresses.isDefaultInternal(address);
        }
        for (IpAddresses.Cidr c : ranges) {
            if (c.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private void normalizePath(HeaderMap h) {
        if (!o.mergeSlashes() && !o.normalizePath()) {
            return;
        }
        String path = h.path();
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            return;
        }
        String normalized = Paths.normalize(path, o.normalizePath(), o.mergeSlashes());
        if (!normalized.equals(path)) {
            h.set(HeaderMap.PATH, normalized);
        }
    }

    private void normalizeHost(HeaderMap h, StreamInfo info) {
        if (!o.stripTrailingHostDot() && !o.stripAnyHostPort() && !o.stripMatchingHostPort()) {
            return;
        }
        String host = h.authority();
        if (host == null || host.isEmpty()) {
            return;
        }
        String out = host;
        int portStart = Paths.portStart(out);
        if (o.stripTrailingHostDot()) {
            int end = portStart < 0 ? out.length() : portStart;
            if (end > 0 && out.charAt(end - 1) == '.') {
                out = out.substring(0, end - 1) + out.substring(end);
                portStart = Paths.portStart(out);
            }
        }
        if (portStart >= 0) {
            if (o.stripAnyHostPort()) {
                out = out.substring(0, portStart);
            } else if (o.stripMatchingHostPort()) {
                InetSocketAddress local = info.downstreamLocalAddress();
                if (local != null && out.substring(portStart + 1).equals(Integer.toString(local.getPort()))) {
                    out = out.substring(0, portStart);
                }
            }
        }
        if (!out.equals(host)) {
            h.set(HeaderMap.AUTHORITY, out);
        }
    }

    private static String joined(HeaderMap h, String name) {
        List<String> all = h.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }

    private static void appendVia(HeaderMap h, String via) {
        String existing = joined(h, "via");
        h.set("via", existing == null || existing.isEmpty() ? via : existing + "," + via);
    }

    /** A random (version 4) UUID from {@link ThreadLocalRandom}: unique enough for tracing, no lock. */
    static String uuid4() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lsb = (r.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(msb, lsb).toString();
    }
}
