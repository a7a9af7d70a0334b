package dev.legate.host.upstream;

import static dev.legate.host.upstream.UpstreamTestSupport.cluster;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.host.event.Transports;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.channel.EventLoopGroup;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Config checks, load balancing, DNS and {@code /clusters} of {@link ClusterManagerImpl}. */
class ClusterManagerImplTest {

    private static EventLoopGroup workers;

    @BeforeAll
    static void setUp() {
        workers = Transports.newGroup(1, "cm-test");
    }

    @AfterAll
    static void tearDown() {
        workers.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static ClusterManagerImpl manager(StatsStore stats, String... yamls) {
        List<Cluster> list = java.util.Arrays.stream(yamls).map(UpstreamTestSupport::cluster).toList();
        return new ClusterManagerImpl(list, stats, workers);
    }

    private static ClusterManagerImpl manager(String... yamls) {
        return manager(new StatsStore(), yamls);
    }

    private static String staticCluster(String name, String extra) {
        return """
                name: %s
                connect_timeout: 1s
                %s
                load_assignment:
                  cluster_name: %s
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                    - endpoint: {address: {socket_address: {address: 127.0.0.2, port_value: 8002}}}
                """.formatted(name, extra, name);
    }

    // Config errors

    @Test
    void clusterProvidedIsRejectedWithTheFieldPath() {
        assertThatThrownBy(() -> manager(staticCluster("a", ""), staticCluster("b", "lb_policy: CLUSTER_PROVIDED")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("static_resources.clusters[1].lb_policy: CLUSTER_PROVIDED is not supported yet "
                        + "(supported: ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV)");
    }

    @Test
    void duplicateNamesAreRejected() {
        assertThatThrownBy(() -> manager(staticCluster("a", ""), staticCluster("a", "")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("static_resources.clusters[1].name: \"a\" (expected: a unique cluster name; "
                        + "static_resources.clusters[0] has it too)");
    }

    @Test
    void behaviourChangingFieldsAreRejected() {
        assertThatThrownBy(() -> manager(staticCluster("a",
                "health_checks: [{timeout: 1s, interval: 1s, tcp_health_check: {}}]")))
                .hasMessage("static_resources.clusters[0].health_checks: not supported yet");
        assertThatThrownBy(() -> manager(staticCluster("a", "outlier_detection: {}")))
                .hasMessage("static_resources.clusters[0].outlier_detection: not supported yet");
        assertThatThrownBy(() -> manager(staticCluster("a", "http2_protocol_options: {connection_keepalive: {}}")))
                .hasMessage("static_resources.clusters[0].http2_protocol_options.connection_keepalive: not supported yet");
        assertThatThrownBy(() -> manager(staticCluster("a",
                "circuit_breakers: {thresholds: [{max_connections: 1, retry_budget: {}}]}")))
                .hasMessage("static_resources.clusters[0].circuit_breakers.thresholds[0].retry_budget: not supported yet");
    }

    @Test
    void unsupportedDiscoveryTypesAreRejected() {
        assertThatThrownBy(() -> manager("name: e\ntype: EDS\neds_cluster_config: {service_name: e}"))
                .hasMessage("static_resources.clusters[0].type: EDS is not supported yet "
                        + "(supported: STATIC, STRICT_DNS, LOGICAL_DNS)");
        assertThatThrownBy(() -> manager("name: o\ntype: ORIGINAL_DST\nlb_policy: CLUSTER_PROVIDED"))
                .hasMessageStartingWith("static_resources.clusters[0].type: ORIGINAL_DST is not supported yet");
    }

    @Test
    void staticClustersNeedLiteralIps() {
        assertThatThrownBy(() -> manager("""
                name: s
                load_assignment:
                  cluster_name: s
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: backend.local, port_value: 80}}}
                """))
                .hasMessage("static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint"
                        + ".address.socket_address.address: \"backend.local\" is not an IP address "
                        + "(STATIC clusters take literal IPs; use type: STRICT_DNS for names)");
    }

    @Test
    void logicalDnsTakesExactlyOneEndpoint() {
        assertThatThrownBy(() -> manager(staticCluster("l", "type: LOGICAL_DNS")))
                .hasMessage("static_resources.clusters[0].load_assignment: LOGICAL_DNS clusters must have exactly "
                        + "one lb_endpoints entry (found: 2)");
    }

    @Test
    void harmlessFieldsAndHttpProtocolOptionsAreAccepted() {
        try (ClusterManagerImpl cm = manager(staticCluster("a", """
                metadata: {filter_metadata: {x: {y: 1}}}
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    common_http_protocol_options: {idle_timeout: 30s}
                    explicit_http_config: {http_protocol_options: {}}
                """))) {
            assertThat(cm.clusterNames()).containsExactly("a");
        }
    }

    private static final String TYPED_H2 = """
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                %s
            """;
    private static final String TYPED_PATH = "static_resources.clusters[0].typed_extension_protocol_options"
            + "[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]";

    private static ClusterSettings settings(String extra) {
        return ClusterSettings.of(cluster(staticCluster("a", extra)), "static_resources.clusters[0]");
    }

    @Test
    void http2IsChosenByTypedOrLegacyOptions() {
        assertThat(settings("").http2).isNull();
        assertThat(settings(TYPED_H2.formatted("explicit_http_config: {http_protocol_options: {}}")).http2).isNull();
        assertThat(settings(TYPED_H2.formatted("explicit_http_config: {http2_protocol_options: {}}")).http2)
                .isEqualTo(ClusterSettings.UPSTREAM_HTTP2_DEFAULTS)
                .isEqualTo(new dev.legate.api.http.Http2Options(2147483647, 268435456, 268435456, false, 4096));
        assertThat(settings("http2_protocol_options: {}").http2).isEqualTo(ClusterSettings.UPSTREAM_HTTP2_DEFAULTS);
        assertThat(settings("""
                http2_protocol_options: {max_concurrent_streams: 100, initial_stream_window_size: 65535,
                  initial_connection_window_size: 1048576, hpack_table_size: 0, allow_connect: true,
                  max_outbound_frames: 5}
                """).http2).isEqualTo(new dev.legate.api.http.Http2Options(100, 65535, 1048576, false, 0));
        ClusterSettings both = settings(TYPED_H2.formatted("""
                common_http_protocol_options: {idle_timeout: 2s, max_requests_per_connection: 7}
                    explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 3}}"""));
        assertThat(both.http2.maxConcurrentStreams()).isEqualTo(3);
        assertThat(both.idleTimeoutMillis).isEqualTo(2000);
        assertThat(both.maxRequestsPerConnection).isEqualTo(7);
        try (ClusterManagerImpl cm = manager(staticCluster("a", "http2_protocol_options: {}"))) {
            assertThat(cm.clusterNames()).containsExactly("a");
        }
    }

    @Test
    void http2OptionErrorsNameTheField() {
        assertThatThrownBy(() -> settings("http2_protocol_options: {max_concurrent_streams: 0}"))
                .hasMessage("static_resources.clusters[0].http2_protocol_options.max_concurrent_streams: 0 "
                        + "(expected: 1..2147483647)");
        assertThatThrownBy(() -> settings("http2_protocol_options: {initial_stream_window_size: 100}"))
                .hasMessage("static_resources.clusters[0].http2_protocol_options.initial_stream_window_size: 100 "
                        + "(expected: 65535..2147483647)");
        assertThatThrownBy(() -> settings(TYPED_H2.formatted(
                "explicit_http_config: {http2_protocol_options: {initial_connection_window_size: 4294967295}}")))
                .hasMessage(TYPED_PATH + ".explicit_http_config.http2_protocol_options.initial_connection_window_size: "
                        + "4294967295 (expected: 65535..2147483647)");
        assertThatThrownBy(() -> settings(TYPED_H2.formatted(
                "explicit_http_config: {http2_protocol_options: {custom_settings_parameters: [{identifier: 9, value: 1}]}}")))
                .hasMessage(TYPED_PATH + ".explicit_http_config.http2_protocol_options.custom_settings_parameters: "
                        + "not supported yet");
        assertThatThrownBy(() -> settings(TYPED_H2.formatted("explicit_http_config: {http3_protocol_options: {}}")))
                .hasMessage(TYPED_PATH + ".explicit_http_config.http3_protocol_options: not supported yet");
        assertThatThrownBy(() -> settings(TYPED_H2.formatted("use_downstream_protocol_config: {}")))
                .hasMessage(TYPED_PATH + ".use_downstream_protocol_config: not supported yet");
        assertThatThrownBy(() -> settings(TYPED_H2.formatted("auto_config: {}")))
                .hasMessage(TYPED_PATH + ".auto_config: not supported yet");
        assertThatThrownBy(() -> settings("http2_protocol_options: {}\n"
                + TYPED_H2.formatted("explicit_http_config: {http2_protocol_options: {}}")))
                .hasMessage("static_resources.clusters[0].http2_protocol_options: set together with "
                        + "typed_extension_protocol_options[\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\"]"
                        + ".explicit_http_config.http2_protocol_options (expected: one of them)");
    }

    @Test
    void defaultsAreEnvoys() {
        StatsStore stats = new StatsStore();
        try (ClusterManagerImpl cm = manager(stats, "name: d\nalt_stat_name: d_alt")) {
            UpstreamCluster c = cm.cluster("d");
            assertThat(c.connectTimeoutMillis()).isEqualTo(5000);
            assertThat(c.perConnectionBufferLimitBytes()).isEqualTo(1024 * 1024);
            assertThat(c.stats().prefix()).isEqualTo("cluster.d_alt.");
            assertThat(c.chooseHost(LoadBalancerContext.NONE)).isNull();
            assertThat(cm.cluster("nope")).isNull();
            assertThat(stats.gauge("cluster_manager.active_clusters")).isEqualTo(1);
            assertThat(stats.counter("cluster_manager.cluster_added")).isEqualTo(1);
        }
        assertThat(stats.gauge("cluster_manager.active_clusters")).isZero();
    }

    // Load balancing

    @Test
    void weightedRoundRobinSplitsByWeight() {
        try (ClusterManagerImpl cm = manager("""
                name: w
                load_assignment:
                  cluster_name: w
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                      load_balancing_weight: 1
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8002}}}
                      load_balancing_weight: 3
                """)) {
            Map<String, Integer> picks = pick(cm.cluster("w"), 400);
            assertThat(picks).containsExactlyInAnyOrderEntriesOf(Map.of("127.0.0.1:8001", 100, "127.0.0.1:8002", 300));
        }
    }

    @Test
    void roundRobinAlternatesWithEqualWeights() {
        try (ClusterManagerImpl cm = manager(staticCluster("rr", ""))) {
            UpstreamCluster c = cm.cluster("rr");
            String first = c.chooseHost(LoadBalancerContext.NONE).addressString();
            String second = c.chooseHost(LoadBalancerContext.NONE).addressString();
            assertThat(first).isNotEqualTo(second);
            assertThat(c.chooseHost(LoadBalancerContext.NONE).addressString()).isEqualTo(first);
        }
    }

    @Test
    void leastRequestPrefersTheIdleHost() {
        try (ClusterManagerImpl cm = manager(staticCluster("lr", "lb_policy: LEAST_REQUEST"))) {
            UpstreamCluster c = cm.cluster("lr");
            HostImpl busy = (HostImpl) c.chooseHost(LoadBalancerContext.NONE);
            busy.rqActive.set(5);
            Map<String, Integer> picks = pick(c, 400);
            // P2C: the busy host wins only when both draws land on it (1 in 4).
            assertThat(picks.getOrDefault(busy.addressString(), 0)).isLessThan(150);
            busy.rqActive.set(0);
        }
    }

    @Test
    void weightedLeastRequestSplitsAnIdleClusterByWeight() {
        try (ClusterManagerImpl cm = manager("""
                name: wlr
                lb_policy: LEAST_REQUEST
                load_assignment:
                  cluster_name: wlr
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                      load_balancing_weight: 1
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8002}}}
                      load_balancing_weight: 3
                """)) {
            Map<String, Integer> picks = pick(cm.cluster("wlr"), 4000);
            assertThat(picks.get("127.0.0.1:8002")).isBetween(2800, 3200);
        }
    }

    @Test
    void randomUsesEveryHost() {
        try (ClusterManagerImpl cm = manager(staticCluster("r", "lb_policy: RANDOM"))) {
            assertThat(pick(cm.cluster("r"), 200)).hasSize(2).allSatisfy((k, v) -> assertThat(v).isGreaterThan(40));
        }
    }

    @Test
    void unhealthyEndpointsAreSkippedUnlessInPanic() {
        String yaml = """
                name: h
                load_assignment:
                  cluster_name: h
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8002}}}
                      health_status: %s
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8003}}}
                      health_status: %s
                """;
        try (ClusterManagerImpl cm = manager(yaml.formatted("HEALTHY", "DRAINING"))) {
            assertThat(pick(cm.cluster("h"), 60)).containsOnlyKeys("127.0.0.1:8001", "127.0.0.1:8002");
        }
        StatsStore stats = new StatsStore();
        try (ClusterManagerImpl cm = manager(stats, yaml.formatted("UNHEALTHY", "TIMEOUT"))) {
            // 1 of 3 healthy is below the 50% panic threshold: Envoy balances over all hosts.
            assertThat(pick(cm.cluster("h"), 60)).hasSize(3);
            assertThat(stats.counter("cluster.h.lb_healthy_panic")).isEqualTo(60);
        }
    }

    @Test
    void shouldSelectAnotherHostIsHonoured() {
        try (ClusterManagerImpl cm = manager(staticCluster("s", ""))) {
            UpstreamCluster c = cm.cluster("s");
            LoadBalancerContext avoid1 = new LoadBalancerContext() {
                @Override
                public boolean shouldSelectAnotherHost(Host host) {
                    return host.addressString().equals("127.0.0.1:8001");
                }
            };
            for (int i = 0; i < 20; i++) {
                assertThat(c.chooseHost(avoid1).addressString()).isEqualTo("127.0.0.2:8002");
            }
        }
    }

    private static Map<String, Integer> pick(UpstreamCluster c, int n) {
        Map<String, Integer> out = new HashMap<>();
        for (int i = 0; i < n; i++) {
            out.merge(c.chooseHost(LoadBalancerContext.NONE).addressString(), 1, Integer::sum);
        }
        return out;
    }

    // DNS

    @Test
    void strictDnsResolvesLocalhostBeforeStartReturns() {
        StatsStore stats = new StatsStore();
        try (ClusterManagerImpl cm = manager(stats, """
                name: dns
                type: STRICT_DNS
                dns_lookup_family: V4_ONLY
                dns_refresh_rate: 60s
                load_assignment:
                  cluster_name: dns
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: localhost, port_value: 9999}}}
                """)) {
            assertThat(cm.cluster("dns").chooseHost(LoadBalancerContext.NONE)).isNull();
            cm.start();
            Host h = cm.cluster("dns").chooseHost(LoadBalancerContext.NONE);
            assertThat(h).isNotNull();
            assertThat(h.addressString()).isEqualTo("127.0.0.1:9999");
            assertThat(h.hostname()).isEqualTo("localhost");
            assertThat(stats.counter("cluster.dns.update_success")).isEqualTo(1);
            assertThat(stats.gauge("cluster.dns.membership_total")).isEqualTo(1);
            assertThat(cm.renderClustersText()).contains("dns::127.0.0.1:9999::hostname::localhost\n");
        }
    }

    @Test
    void logicalDnsUsesTheFirstAddress() {
        try (ClusterManagerImpl cm = manager("""
                name: logical
                type: LOGICAL_DNS
                dns_lookup_family: V4_ONLY
                load_assignment:
                  cluster_name: logical
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: localhost, port_value: 9998}}}
                """)) {
            cm.start();
            Host h = cm.cluster("logical").chooseHost(LoadBalancerContext.NONE);
            assertThat(h.addressString()).isEqualTo("127.0.0.1:9998");
        }
    }

    @Test
    void strictDnsFailureLeavesTheClusterEmptyAndCounts() {
        StatsStore stats = new StatsStore();
        try (ClusterManagerImpl cm = manager(stats, """
                name: nx
                type: STRICT_DNS
                load_assignment:
                  cluster_name: nx
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: no-such-host.invalid, port_value: 80}}}
                """)) {
            cm.start();
            assertThat(cm.cluster("nx").chooseHost(LoadBalancerContext.NONE)).isNull();
            assertThat(stats.counter("cluster.nx.update_failure")).isEqualTo(1);
        }
    }

    // /clusters

    @Test
    void clustersTextHasEnvoysLines() {
        try (ClusterManagerImpl cm = manager("""
                name: backend
                circuit_breakers:
                  thresholds:
                  - {max_connections: 10, max_retries: 5}
                  - {priority: HIGH, max_requests: 7}
                load_assignment:
                  cluster_name: backend
                  endpoints:
                  - locality: {region: eu, zone: eu-1a}
                    lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}, hostname: web-1}
                      load_balancing_weight: 2
                """)) {
            assertThat(cm.renderClustersText()).isEqualTo("""
                    backend::observability_name::backend
                    backend::default_priority::max_connections::10
                    backend::default_priority::max_pending_requests::1024
                    backend::default_priority::max_requests::1024
                    backend::default_priority::max_retries::5
                    backend::high_priority::max_connections::1024
                    backend::high_priority::max_pending_requests::1024
                    backend::high_priority::max_requests::7
                    backend::high_priority::max_retries::3
                    backend::added_via_api::false
                    backend::10.0.0.1:80::cx_active::0
                    backend::10.0.0.1:80::cx_connect_fail::0
                    backend::10.0.0.1:80::cx_total::0
                    backend::10.0.0.1:80::rq_active::0
                    backend::10.0.0.1:80::rq_error::0
                    backend::10.0.0.1:80::rq_success::0
                    backend::10.0.0.1:80::rq_timeout::0
                    backend::10.0.0.1:80::rq_total::0
                    backend::10.0.0.1:80::hostname::web-1
                    backend::10.0.0.1:80::health_flags::healthy
                    backend::10.0.0.1:80::weight::2
                    backend::10.0.0.1:80::region::eu
                    backend::10.0.0.1:80::zone::eu-1a
                    backend::10.0.0.1:80::sub_zone::
                    backend::10.0.0.1:80::canary::false
                    backend::10.0.0.1:80::priority::0
                    backend::10.0.0.1:80::success_rate::-1
                    backend::10.0.0.1:80::local_origin_success_rate::-1
                    """);
        }
    }

    @Test
    void circuitBreakersAreSharedAndBounded() {
        try (ClusterManagerImpl cm = manager(staticCluster("cb",
                "circuit_breakers: {thresholds: [{max_requests: 2, max_retries: 1}]}"))) {
            var rm = cm.cluster("cb").resourceManager();
            assertThat(rm.tryAcquireRequest()).isTrue();
            assertThat(rm.tryAcquireRequest()).isTrue();
            assertThat(rm.tryAcquireRequest()).isFalse();
            rm.releaseRequest();
            assertThat(rm.tryAcquireRequest()).isTrue();
            assertThat(rm.tryAcquireRetry()).isTrue();
            assertThat(rm.tryAcquireRetry()).isFalse();
        }
    }
}
