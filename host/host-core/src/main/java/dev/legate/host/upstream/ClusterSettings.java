package dev.legate.host.upstream;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.legate.api.ConfigException;
import dev.legate.api.http.Http2Options;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link Cluster} checked and compiled into the values Legate runs with. Immutable, built on the main
 * thread. Every field set on the proto is either used, warned about ("not supported yet, ignored") when it
 * does not change what traffic sees, or rejected with a {@link ConfigException} naming it.
 */
@SuppressWarnings("deprecation") // dns_refresh_rate and friends are deprecated in Envoy but still in every config
final class ClusterSettings {

    private static final Logger log = LoggerFactory.getLogger(ClusterSettings.class);

    static final String HTTP_PROTOCOL_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /** Discovery types Legate runs. */
    enum Discovery { STATIC, STRICT_DNS, LOGICAL_DNS }

    /** Load-balancing policies Legate runs. */
    enum Policy { ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV }

    /** Envoy's bound on {@code minimum_ring_size}/{@code maximum_ring_size}, and the default maximum (8M). */
    static final long MAX_RING_SIZE = 8 * 1024 * 1024;
    /** Envoy's bound on {@code maglev_lb_config.table_size}. */
    static final long MAX_MAGLEV_TABLE_SIZE = 5000011;

    /**
     * Envoy's upstream HTTP/2 defaults ({@code Http2::Utility::OptionsLimits}): {@code max_concurrent_streams}
     * 2147483647 (then bounded by the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS}), windows 256 MiB,
     * {@code hpack_table_size} 4096.
     */
    static final Http2Options UPSTREAM_HTTP2_DEFAULTS = new Http2Options(Integer.MAX_VALUE, 268_435_456,
            268_435_456, false, 4096);

    /** Circuit-breaker thresholds of one priority. */
    record Thresholds(long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries) {
        static final Thresholds DEFAULTS = new Thresholds(1024, 1024, 1024, 3);
    }

    /**
     * One {@code lb_endpoints} entry. {@code ip} is set for literal IPs (always for STATIC). {@code hashKey}:
     * {@code metadata.filter_metadata["envoy.lb"].hash_key} ("" when not set), which RING_HASH and MAGLEV place
     * the host by instead of its address.
     */
    record EndpointSpec(String address, InetAddress ip, int port, String hostname, int weight,
            HealthStatus healthStatus, Locality locality, int priority, String hashKey) {
    }

    final String path;
    final String name;
    final String statName;
    final Discovery discovery;
    final long connectTimeoutMillis;
    final int bufferLimit;
    final Policy policy;
    final int choiceCount;
    final double activeRequestBias;
    final long minimumRingSize;
    final long maximumRingSize;
    final RingHashLoadBalancer.HashFunction ringHashFunction;
    final long maglevTableSize;
    /** {@code common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing} (RING_HASH, MAGLEV). */
    final boolean useHostnameForHashing;
    final int panicThresholdPercent;
    final Thresholds defaultThresholds;
    final Thresholds highThresholds;
    final long dnsRefreshMillis;
    final long dnsFailureRefreshMillis;
    final Cluster.DnsLookupFamily lookupFamily;
    final boolean waitForWarm;
    final long idleTimeoutMillis;
    final long maxRequestsPerConnection;
    /**
     * The cluster's HTTP/2 options when it speaks HTTP/2 to its hosts (cleartext, prior knowledge), chosen by
     * {@code typed_extension_protocol_options[...HttpProtocolOptions].explicit_http_config.http2_protocol_options}
     * or the legacy {@code http2_protocol_options}; {@code null} for HTTP/1.1.
     */
    final Http2Options http2;
    final List<EndpointSpec> endpoints;

    private ClusterSettings(Cluster c, String path) {
        this.path = path;

        if (c.getName().isEmpty()) {
            throw ConfigException.at(path + ".name", "\"\" (expected: a non-empty cluster name)");
        }
        name = c.getName();
        statName = (c.getAltStatName().isEmpty() ? name : c.getAltStatName()).replace(':', '_');

        discovery = switch (c.getClusterDiscoveryTypeCase()) {
            case CLUSTER_TYPE -> throw ConfigException.at(path + ".cluster_type",
                    c.getClusterType().getName() + " is not supported yet (supported: type STATIC, STRICT_DNS, LOGICAL_DNS)");
            case TYPE, CLUSTERDISCOVERYTYPE_NOT_SET -> switch (c.getType()) {
                case STATIC -> Discovery.STATIC;
                case STRICT_DNS -> Discovery.STRICT_DNS;
                case LOGICAL_DNS -> Discovery.LOGICAL_DNS;
                default -> throw ConfigException.at(path + ".type",
                        c.getType() + " is not supported yet (supported: STATIC, STRICT_DNS, LOGICAL_DNS)");
            };
        };

        checkClusterFields(c, path);

        connectTimeoutMillis = c.hasConnectTimeout() ? positiveMillis(c.getConnectTimeout(), path + ".connect_timeout") : 5000;
        bufferLimit = c.hasPerConnectionBufferLimitBytes()
                ? (int) Math.min(Integer.MAX_VALUE, Math.max(2, c.getPerConnectionBufferLimitBytes().getValue() & 0xFFFFFFFFL))
                : 1024 * 1024;

        policy = switch (c.getLbPolicy()) {
            case ROUND_ROBIN -> Policy.ROUND_ROBIN;
            case LEAST_REQUEST -> Policy.LEAST_REQUEST;
            case RANDOM -> Policy.RANDOM;
            case RING_HASH -> Policy.RING_HASH;
            case MAGLEV -> Policy.MAGLEV;
            default -> throw ConfigException.at(path + ".lb_policy", c.getLbPolicy()
                    + " is not supported yet (supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)");
        };

        long minRing = 1024;
        long maxRing = MAX_RING_SIZE;
        RingHashLoadBalancer.HashFunction hashFunction = RingHashLoadBalancer.HashFunction.XX_HASH;
        if (c.hasRingHashLbConfig()) {
            Cluster.RingHashLbConfig rh = c.getRingHashLbConfig();
            String p = path + ".ring_hash_lb_config";
            checkFields(rh, p, Set.of("minimum_ring_size", "maximum_ring_size", "hash_function"), Set.of());
            if (rh.hasMinimumRingSize()) {
                minRing = rh.getMinimumRingSize().getValue();
                if (minRing < 1 || minRing > MAX_RING_SIZE) {
                    throw ConfigException.at(p + ".minimum_ring_size",
                            Long.toUnsignedString(minRing) + " (expected: 1.." + MAX_RING_SIZE + ")");
                }
            }
            if (rh.hasMaximumRingSize()) {
                maxRing = rh.getMaximumRingSize().getValue();
                if (maxRing < 1 || maxRing > MAX_RING_SIZE) {
                    throw ConfigException.at(p + ".maximum_ring_size",
                            Long.toUnsignedString(maxRing) + " (expected: 1.." + MAX_RING_SIZE + ")");
                }
            }
            if (minRing > maxRing) {
                throw ConfigException.at(p + ".minimum_ring_size",
                        minRing + " (expected: <= maximum_ring_size " + maxRing + ")");
            }
            hashFunction = switch (rh.getHashFunction()) {
                case XX_HASH -> RingHashLoadBalancer.HashFunction.XX_HASH;
                case MURMUR_HASH_2 -> RingHashLoadBalancer.HashFunction.MURMUR_HASH_2;
                default -> throw ConfigException.at(p + ".hash_function", "unknown value");
            };
            if (policy != Policy.RING_HASH) {
                log.warn("{}: lb_policy is {}, ring_hash_lb_config is ignored", p, policy);
            }
        }
        minimumRingSize = minRing;
        maximumRingSize = maxRing;
        ringHashFunction = hashFunction;

        long tableSize = MaglevLoadBalancer.DEFAULT_TABLE_SIZE;
        if (c.hasMaglevLbConfig()) {
            Cluster.MaglevLbConfig m = c.getMaglevLbConfig();
            String p = path + ".maglev_lb_config";
            checkFields(m, p, Set.of("table_size"), Set.of());
            if (m.hasTableSize()) {
                tableSize = m.getTableSize().getValue();
                if (tableSize < 2 || tableSize > MAX_MAGLEV_TABLE_SIZE || !isPrime(tableSize)) {
                    throw ConfigException.at(p + ".table_size", Long.toUnsignedString(tableSize)
                            + " (expected: a prime number <= " + MAX_MAGLEV_TABLE_SIZE + ")");
                }
            }
            if (policy != Policy.MAGLEV) {
                log.warn("{}: lb_policy is {}, maglev_lb_config is ignored", p, policy);
            }
        }
        maglevTableSize = tableSize;

        int choices = 2;
        double bias = 1.0;
        if (c.hasLeastRequestLbConfig()) {
            Cluster.LeastRequestLbConfig lr = c.getLeastRequestLbConfig();
            String p = path + ".least_request_lb_config";
            checkFields(lr, p, Set.of("choice_count", "active_request_bias"), Set.of());
            if (lr.hasChoiceCount()) {
                choices = lr.getChoiceCount().getValue();
                if (choices < 2) {
                    throw ConfigException.at(p + ".choice_count", choices + " (expected: >= 2)");
                }
            }
            if (lr.hasActiveRequestBias()) {
                bias = lr.getActiveRequestBias().getDefaultValue();
                if (bias < 0) {
                    throw ConfigException.at(p + ".active_request_bias.default_value", bias + " (expected: >= 0)");
                }
                if (!lr.getActiveRequestBias().getRuntimeKey().isEmpty()) {
                    log.warn("{}.active_request_bias.runtime_key: runtime is not supported yet, using default_value", p);
                }
            }
        }
        choiceCount = choices;
        activeRequestBias = bias;
        if (c.hasRoundRobinLbConfig()) {
            checkFields(c.getRoundRobinLbConfig(), path + ".round_robin_lb_config", Set.of(), Set.of());
        }

        int panic = 50;
        boolean useHostname = false;
        if (c.hasCommonLbConfig()) {
            Cluster.CommonLbConfig cl = c.getCommonLbConfig();
            String p = path + ".common_lb_config";
            checkFields(cl, p, Set.of("healthy_panic_threshold", "consistent_hashing_lb_config"),
                    Set.of("update_merge_window", "ignore_new_hosts_until_first_hc", "zone_aware_lb_config",
                    "override_host_status"));
            if (cl.hasConsistentHashingLbConfig()) {
                String cp = p + ".consistent_hashing_lb_config";
                boolean hashing = policy == Policy.RING_HASH || policy == Policy.MAGLEV;
                if (hashing) {
                    checkFields(cl.getConsistentHashingLbConfig(), cp, Set.of("use_hostname_for_hashing"), Set.of());
                    useHostname = cl.getConsistentHashingLbConfig().getUseHostnameForHashing();
                } else {
                    log.warn("{}: lb_policy is {}, consistent_hashing_lb_config is ignored", cp, policy);
                }
            }
            if (cl.hasHealthyPanicThreshold()) {
                double v = cl.getHealthyPanicThreshold().getValue();
                if (v < 0 || v > 100) {
                    throw ConfigException.at(p + ".healthy_panic_threshold.value", v + " (expected: 0..100)");
                }
                panic = (int) v;
            }
        }
        panicThresholdPercent = panic;
        useHostnameForHashing = useHostname;

        Thresholds def = null;
        Thresholds high = null;
        if (c.hasCircuitBreakers()) {
            CircuitBreakers cb = c.getCircuitBreakers();
            String p = path + ".circuit_breakers";
            checkFields(cb, p, Set.of("thresholds"), Set.of());
            for (int i = 0; i < cb.getThresholdsCount(); i++) {
                CircuitBreakers.Thresholds t = cb.getThresholds(i);
                String tp = p + ".thresholds[" + i + "]";
                checkFields(t, tp, Set.of("priority", "max_connections", "max_pending_requests", "max_requests",
                        "max_retries"), Set.of("track_remaining"));
                Thresholds parsed = new Thresholds(
                        t.hasMaxConnections() ? t.getMaxConnections().getValue() & 0xFFFFFFFFL : 1024,
                        t.hasMaxPendingRequests() ? t.getMaxPendingRequests().getValue() & 0xFFFFFFFFL : 1024,
                        t.hasMaxRequests() ? t.getMaxRequests().getValue() & 0xFFFFFFFFL : 1024,
                        t.hasMaxRetries() ? t.getMaxRetries().getValue() & 0xFFFFFFFFL : 3);
                // Envoy: the first entry of each priority wins.
                if (t.getPriority() == RoutingPriority.HIGH) {
                    if (high == null) {
                        high = parsed;
                    }
                } else if (def == null) {
                    def = parsed;
                }
            }
        }
        defaultThresholds = def == null ? Thresholds.DEFAULTS : def;
        highThresholds = high == null ? Thresholds.DEFAULTS : high;

        boolean dns = discovery != Discovery.STATIC;
        dnsRefreshMillis = c.hasDnsRefreshRate() ? positiveMillis(c.getDnsRefreshRate(), path + ".dns_refresh_rate") : 5000;
        dnsFailureRefreshMillis = c.hasDnsFailureRefreshRate() && c.getDnsFailureRefreshRate().hasBaseInterval()
                ? positiveMillis(c.getDnsFailureRefreshRate().getBaseInterval(), path + ".dns_failure_refresh_rate.base_interval")
                : dnsRefreshMillis;
        if (c.getDnsLookupFamily() == Cluster.DnsLookupFamily.UNRECOGNIZED) {
            throw ConfigException.at(path + ".dns_lookup_family", "unknown value");
        }
        lookupFamily = c.getDnsLookupFamily();
        if (!dns && (c.hasDnsRefreshRate() || c.getDnsLookupFamily() != Cluster.DnsLookupFamily.AUTO)) {
            log.warn("{}: dns_refresh_rate / dns_lookup_family apply to DNS clusters only, ignored for {}", path, discovery);
        }
        waitForWarm = !c.hasWaitForWarmOnInit() || c.getWaitForWarmOnInit().getValue();

        long idle = 3_600_000;
        long maxRequests = c.hasMaxRequestsPerConnection() ? c.getMaxRequestsPerConnection().getValue() & 0xFFFFFFFFL : 0;
        if (c.hasCommonHttpProtocolOptions()) {
            HttpProtocolOptions o = c.getCommonHttpProtocolOptions();
            String p = path + ".common_http_protocol_options";
            checkCommonHttpOptions(o, p);
            if (o.hasIdleTimeout()) {
                idle = millis(o.getIdleTimeout());
            }
            if (o.hasMaxRequestsPerConnection()) {
                maxRequests = o.getMaxRequestsPerConnection().getValue() & 0xFFFFFFFFL;
            }
        }
        if (c.hasHttpProtocolOptions()) {
            checkFields(c.getHttpProtocolOptions(), path + ".http_protocol_options", Set.of(), Set.of());
        }
        Http2Options h2 = c.hasHttp2ProtocolOptions()
                ? http2Options(c.getHttp2ProtocolOptions(), path + ".http2_protocol_options") : null;
        for (Map.Entry<String, Any> e : c.getTypedExtensionProtocolOptionsMap().entrySet()) {
            String p = path + ".typed_extension_protocol_options[\"" + e.getKey() + "\"]";
            if (!e.getKey().equals(HTTP_PROTOCOL_OPTIONS_KEY)) {
                throw ConfigException.at(p, "not supported yet (supported: " + HTTP_PROTOCOL_OPTIONS_KEY + ")");
            }
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions o;
            try {
                o = e.getValue().unpack(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class);
            } catch (InvalidProtocolBufferException ex) {
                throw ConfigException.at(p, "\"@type\": " + e.getValue().getTypeUrl()
                        + " (expected: type.googleapis.com/" + HTTP_PROTOCOL_OPTIONS_KEY + ")");
            }
            checkFields(o, p, Set.of("common_http_protocol_options", "explicit_http_config"),
                    Set.of("upstream_http_protocol_options"));
            if (o.hasExplicitHttpConfig()) {
                var x = o.getExplicitHttpConfig();
                String xp = p + ".explicit_http_config";
                checkFields(x, xp, Set.of("http_protocol_options", "http2_protocol_options"), Set.of());
                if (x.hasHttpProtocolOptions()) {
                    checkFields(x.getHttpProtocolOptions(), xp + ".http_protocol_options", Set.of(), Set.of());
                }
                if (x.hasHttp2ProtocolOptions()) {
                    if (c.hasHttp2ProtocolOptions()) {
                        // Envoy: "cannot specify both legacy and typed protocol options"
                        throw ConfigException.at(path + ".http2_protocol_options",
                                "set together with " + xp.substring(path.length() + 1)
                                + ".http2_protocol_options (expected: one of them)");
                    }
                    h2 = http2Options(x.getHttp2ProtocolOptions(), xp + ".http2_protocol_options");
                }
            }
            if (o.hasCommonHttpProtocolOptions()) {
                HttpProtocolOptions co = o.getCommonHttpProtocolOptions();
                checkCommonHttpOptions(co, p + ".common_http_protocol_options");
                if (co.hasIdleTimeout()) {
                    idle = millis(co.getIdleTimeout());
                }
                if (co.hasMaxRequestsPerConnection()) {
                    maxRequests = co.getMaxRequestsPerConnection().getValue() & 0xFFFFFFFFL;
                }
            }
        }
        idleTimeoutMillis = idle;
        maxRequestsPerConnection = maxRequests;
        http2 = h2;

        endpoints = parseEndpoints(c, path);
        if (discovery == Discovery.LOGICAL_DNS && endpoints.size() != 1) {
            throw ConfigException.at(path + ".load_assignment",
                    "LOGICAL_DNS clusters must have exactly one lb_endpoints entry (found: " + endpoints.size() + ")");
        }
    }

    /**
     * Checks and compiles {@code cluster}.
     *
     * @param path the cluster's path for messages, e.g. {@code static_resources.clusters[1]}
     * @throws ConfigException naming the first field Legate cannot run
     */
    static ClusterSettings of(Cluster cluster, String path) {
        return new ClusterSettings(cluster, path);
    }

    private List<EndpointSpec> parseEndpoints(Cluster c, String path) {
        List<EndpointSpec> out = new ArrayList<>();
        if (!c.hasLoadAssignment()) {
            return out;
        }
        ClusterLoadAssignment la = c.getLoadAssignment();
        String lp = path + ".load_assignment";
        checkFields(la, lp, Set.of("cluster_name", "endpoints", "policy"), Set.of());
        if (la.hasPolicy()) {
            checkFields(la.getPolicy(), lp + ".policy", Set.of(),
                    Set.of("overprovisioning_factor", "weighted_priority_health", "endpoint_stale_after"));
        }
        for (int i = 0; i < la.getEndpointsCount(); i++) {
            LocalityLbEndpoints le = la.getEndpoints(i);
            String ep = lp + ".endpoints[" + i + "]";
            checkFields(le, ep, Set.of("locality", "lb_endpoints", "priority"),
                    Set.of("load_balancing_weight", "metadata", "proximity"));
            if (le.getPriority() != 0) {
                throw ConfigException.at(ep + ".priority", le.getPriority() + " is not supported yet (supported: 0)");
            }
            for (int j = 0; j < le.getLbEndpointsCount(); j++) {
                LbEndpoint lb = le.getLbEndpoints(j);
                String bp = ep + ".lb_endpoints[" + j + "]";
                checkFields(lb, bp, Set.of("endpoint", "health_status", "load_balancing_weight", "metadata"), Set.of());
                String hashKey = lb.hasMetadata() ? lbHashKey(lb.getMetadata(), bp + ".metadata") : "";
                int weight = 1;
                if (lb.hasLoadBalancingWeight()) {
                    weight = lb.getLoadBalancingWeight().getValue();
                    if (weight < 1) {
                        throw ConfigException.at(bp + ".load_balancing_weight", (weight & 0xFFFFFFFFL) + " (expected: >= 1)");
                    }
                }
                Endpoint e = lb.getEndpoint();
                String pp = bp + ".endpoint";
                checkFields(e, pp, Set.of("address", "hostname"), Set.of("health_check_config"));
                Address a = e.getAddress();
                checkFields(a, pp + ".address", Set.of("socket_address"), Set.of());
                SocketAddress sa = a.getSocketAddress();
                String sp = pp + ".address.socket_address";
                if (!a.hasSocketAddress()) {
                    throw ConfigException.at(sp, "missing (expected: {address, port_value})");
                }
                checkFields(sa, sp, Set.of("address", "port_value", "protocol"), Set.of("ipv4_compat"));
                if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
                    throw ConfigException.at(sp + ".protocol", sa.getProtocol() + " is not supported yet (supported: TCP)");
                }
                if (sa.getAddress().isEmpty()) {
                    throw ConfigException.at(sp + ".address", "\"\" (expected: an IP address or a DNS name)");
                }
                int port = sa.getPortValue();
                if (port < 1 || port > 65535) {
                    throw ConfigException.at(sp + ".port_value", port + " (expected: 1..65535)");
                }
                InetAddress ip = NetUtil.createInetAddressFromIpAddressString(sa.getAddress());
                if (ip == null && discovery == Discovery.STATIC) {
                    throw ConfigException.at(sp + ".address", "\"" + sa.getAddress()
                            + "\" is not an IP address (STATIC clusters take literal IPs; use type: STRICT_DNS for names)");
                }
                HealthStatus hs = lb.getHealthStatus();
                if (hs == HealthStatus.UNRECOGNIZED) {
                    throw ConfigException.at(bp + ".health_status", "unknown value");
                }
                out.add(new EndpointSpec(sa.getAddress(), ip, port, e.getHostname(), weight, hs, le.getLocality(),
                        le.getPriority(), hashKey));
            }
        }
        return out;
    }

    /**
     * An endpoint's {@code filter_metadata["envoy.lb"].hash_key} (Envoy's {@code MetadataEnvoyLbKeys::HASH_KEY},
     * read by {@code HashingLoadBalancer::hashKey}), or "" when not set. Envoy ignores a hash_key that is not a
     * string (a debug log); Legate warns. Any other metadata is warned about and ignored (Legate has no subset
     * load balancer or metadata matching).
     */
    private static String lbHashKey(Metadata m, String path) {
        String key = "";
        for (Map.Entry<String, Struct> f : m.getFilterMetadataMap().entrySet()) {
            String fp = path + ".filter_metadata[\"" + f.getKey() + "\"]";
            for (Map.Entry<String, Value> v : f.getValue().getFieldsMap().entrySet()) {
                if (f.getKey().equals("envoy.lb") && v.getKey().equals("hash_key")) {
                    if (v.getValue().getKindCase() == Value.KindCase.STRING_VALUE) {
                        key = v.getValue().getStringValue();
                    } else {
                        log.warn("{}.hash_key: not a string, ignored (as Envoy does)", fp);
                    }
                } else {
                    log.warn("{}.{}: not supported yet, ignored", fp, v.getKey());
                }
            }
        }
        for (String t : m.getTypedFilterMetadataMap().keySet()) {
            log.warn("{}.typed_filter_metadata[\"{}\"]: not supported yet, ignored", path, t);
        }
        return key;
    }

    private static void checkClusterFields(Cluster c, String path) {
        for (FieldDescriptor f : c.getAllFields().keySet()) {
            String n = f.getName();
            switch (n) {
                case "name", "alt_stat_name", "type", "connect_timeout", "per_connection_buffer_limit_bytes",
                        "lb_policy", "load_assignment", "circuit_breakers", "dns_refresh_rate",
                        "dns_failure_refresh_rate", "dns_lookup_family", "wait_for_warm_on_init",
                        "least_request_lb_config", "round_robin_lb_config", "common_lb_config",
                        "ring_hash_lb_config", "maglev_lb_config",
                        "typed_extension_protocol_options", "common_http_protocol_options",
                        "http_protocol_options", "http2_protocol_options", "max_requests_per_connection",
                        "cluster_type" -> {
                    // used (or checked in detail) by the constructor
                }
                case "respect_dns_ttl" -> log.warn("{}.respect_dns_ttl: not supported yet, ignored "
                        + "(Legate re-resolves every dns_refresh_rate; the JVM's own DNS cache applies)", path);
                case "metadata", "dns_jitter", "protocol_selection", "track_cluster_stats",
                        "close_connections_on_host_health_failure", "ignore_health_on_host_removal",
                        "track_timeout_budgets", "lrs_report_endpoint_metrics", "use_tcp_for_dns_lookups",
                        "upstream_connection_options", "cleanup_interval", "preconnect_policy" ->
                        log.warn("{}.{}: not supported yet, ignored", path, n);
                default -> throw ConfigException.at(path + "." + n, "not supported yet");
            }
        }
    }

    /**
     * Compiles an upstream {@link Http2ProtocolOptions} (Envoy's {@code Http2::Utility::initializeAndValidateOptions}
     * ranges). Used: {@code max_concurrent_streams} (1..2147483647), {@code initial_stream_window_size} and
     * {@code initial_connection_window_size} (65535..2147483647), {@code hpack_table_size}. Warned: the flood
     * limits (Netty applies its own), {@code allow_connect} (a server-side setting), {@code allow_metadata},
     * {@code max_metadata_size}, {@code stream_error_on_invalid_http_messaging},
     * {@code override_stream_error_on_invalid_http_message}, {@code use_oghttp2_codec}. Anything else (e.g.
     * {@code connection_keepalive}, {@code custom_settings_parameters}) is an error.
     */
    static Http2Options http2Options(Http2ProtocolOptions o, String path) {
        checkFields(o, path, Set.of("hpack_table_size", "max_concurrent_streams", "initial_stream_window_size",
                "initial_connection_window_size"), Set.of("allow_connect", "allow_metadata", "max_outbound_frames",
                "max_outbound_control_frames", "max_consecutive_inbound_frames_with_empty_payload",
                "max_inbound_priority_frames_per_stream", "max_inbound_window_update_frames_per_data_frame_sent",
                "stream_error_on_invalid_http_messaging", "override_stream_error_on_invalid_http_message",
                "use_oghttp2_codec", "max_metadata_size"));
        Http2Options d = UPSTREAM_HTTP2_DEFAULTS;
        long streams = d.maxConcurrentStreams();
        if (o.hasMaxConcurrentStreams()) {
            streams = o.getMaxConcurrentStreams().getValue() & 0xFFFFFFFFL;
            if (streams < 1 || streams > Integer.MAX_VALUE) {
                throw ConfigException.at(path + ".max_concurrent_streams", streams + " (expected: 1..2147483647)");
            }
        }
        int streamWindow = window(o.hasInitialStreamWindowSize(), o.getInitialStreamWindowSize().getValue(),
                d.initialStreamWindowSize(), path + ".initial_stream_window_size");
        int connectionWindow = window(o.hasInitialConnectionWindowSize(), o.getInitialConnectionWindowSize().getValue(),
                d.initialConnectionWindowSize(), path + ".initial_connection_window_size");
        long hpack = o.hasHpackTableSize() ? o.getHpackTableSize().getValue() & 0xFFFFFFFFL : d.hpackTableSize();
        return new Http2Options(streams, streamWindow, connectionWindow, false, hpack);
    }

    private static int window(boolean set, int value, int dflt, String path) {
        if (!set) {
            return dflt;
        }
        long v = value & 0xFFFFFFFFL;
        if (v < 65535 || v > Integer.MAX_VALUE) {
            throw ConfigException.at(path, v + " (expected: 65535..2147483647)");
        }
        return (int) v;
    }

    private static void checkCommonHttpOptions(HttpProtocolOptions o, String path) {
        checkFields(o, path, Set.of("idle_timeout", "max_requests_per_connection"), Set.of("max_headers_count"));
    }

    /**
     * Rejects every field of {@code msg} that is set and neither {@code used} nor {@code warned}; logs a
     * warning for each {@code warned} one.
     */
    static void checkFields(Message msg, String path, Set<String> used, Set<String> warned) {
        for (FieldDescriptor f : msg.getAllFields().keySet()) {
            String n = f.getName();
            if (used.contains(n)) {
                continue;
            }
            if (warned.contains(n)) {
                log.warn("{}.{}: not supported yet, ignored", path, n);
                continue;
            }
            throw ConfigException.at(path + "." + n, "not supported yet");
        }
    }

    private static boolean isPrime(long n) {
        if (n < 2) {
            return false;
        }
        for (long d = 2; d * d <= n; d++) {
            if (n % d == 0) {
                return false;
            }
        }
        return true;
    }

    private static long millis(Duration d) {
        return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
    }

    private static long positiveMillis(Duration d, String path) {
        long ms = millis(d);
        if (ms <= 0 && (d.getSeconds() > 0 || d.getNanos() > 0)) {
            return 1;
        }
        if (ms <= 0) {
            throw ConfigException.at(path, d.getSeconds() + "s (expected: > 0)");
        }
        return ms;
    }
}
