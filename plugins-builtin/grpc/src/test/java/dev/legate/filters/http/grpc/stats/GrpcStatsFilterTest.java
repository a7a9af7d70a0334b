package dev.legate.filters.http.grpc.stats;

import static dev.legate.filters.http.grpc.GrpcTestSupport.buf;
import static dev.legate.filters.http.grpc.GrpcTestSupport.concat;
import static dev.legate.filters.http.grpc.GrpcTestSupport.frame;
import static dev.legate.filters.http.grpc.GrpcTestSupport.routeTo;
import static dev.legate.filters.http.grpc.GrpcTestSupport.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.host.stats.StatsStore;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.NetworkFilterFakes.FakeCluster;
import dev.legate.testkit.NetworkFilterFakes.FakeClusterManager;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import dev.legate.testkit.TestStreamInfo;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterObject;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Config and filter tiers of {@code envoy.filters.http.grpc_stats}: Envoy's stat names and its rules for them. */
class GrpcStatsFilterTest {

    private static final String PATH = "/grpc.testing.TestService/UnaryCall";
    private static final String P = "cluster.backend.grpc.";
    private static final String M = P + "grpc.testing.TestService.UnaryCall.";

    private final GrpcStatsFilterFactory factory = new GrpcStatsFilterFactory();
    private final StatsStore store = new StatsStore();
    private final FakeClusterManager clusters = new FakeClusterManager();

    GrpcStatsFilterTest() {
        clusters.add(new FakeCluster("backend", store.root()));
    }

    // ---- config tier

    @Test
    void registersEnvoysNameAndType() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.grpc_stats");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig");
        assertThat(factory.perRouteConfigType()).isNull();
    }

    @Test
    void compilesEveryField() {
        GrpcStatsSettings s = GrpcStatsSettings.from(yaml("""
                emit_filter_state: true
                enable_upstream_stats: true
                replace_dots_in_grpc_service_name: true
                individual_method_stats_allowlist:
                  services:
                  - { name: a.B, method_names: [ M1, M2 ] }
                  - { name: a.B, method_names: [ M3 ] }
                """, FilterConfig.newBuilder()));
        assertThat(s).isEqualTo(new GrpcStatsSettings(true, true, true, false,
                Map.of("a.B", Set.of("M1", "M2", "M3"))));
    }

    @Test
    void statsForAllMethodsDefaultsToFalse() {
        assertThat(GrpcStatsSettings.from(FilterConfig.getDefaultInstance()).statsForAllMethods()).isFalse();
        assertThat(GrpcStatsSettings.from(yaml("stats_for_all_methods: true", FilterConfig.newBuilder()))
                .statsForAllMethods()).isTrue();
        assertThat(GrpcStatsSettings.from(yaml("stats_for_all_methods: false", FilterConfig.newBuilder()))
                .statsForAllMethods()).isFalse();
    }

    @Test
    void allowlistErrorsNameTheField() {
        assertThatThrownBy(() -> factory.create(yaml(
                "individual_method_stats_allowlist: { services: [ { name: a, method_names: [x] }, { method_names: [x] } ] }",
                FilterConfig.newBuilder()), new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("individual_method_stats_allowlist.services[1].name: \"\" (expected: non-empty)");
        assertThatThrownBy(() -> factory.create(yaml(
                "individual_method_stats_allowlist: { services: [ { name: a } ] }", FilterConfig.newBuilder()),
                new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("individual_method_stats_allowlist.services[0].method_names: [] (expected: at least one method)");
    }

    // ---- filter tier

    private HttpFilterHarness harness(String config, TestStreamInfo info) {
        HttpFilterHarness h = HttpFilterHarness.of(factory.create(yaml(config, FilterConfig.newBuilder()),
                new TestFactoryContext()), new ManualDispatcher(), info);
        h.route(routeTo("backend")).clusterManager(clusters);
        return h;
    }

    private HttpFilterHarness harness(String config) {
        return harness(config, new TestStreamInfo());
    }

    private static TestHeaderMap grpcRequest(String path) {
        return TestHeaderMap.of(":method", "POST", ":path", path, "content-type", "application/grpc");
    }

    /** A unary call: one request message, two response messages (in chunks cut inside frames), trailers. */
    private static void unaryCall(HttpFilterHarness h, String path, String grpcStatus) {
        h.decodeHeaders(grpcRequest(path), false);
        byte[] req = frame("request");
        h.decodeData(buf(req, 0, 2), false);
        h.decodeData(buf(req, 2, req.length), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false);
        byte[] resp = concat(frame("one"), frame("two"));
        h.encodeResponseData(buf(resp, 0, 9), false);
        h.encodeResponseData(buf(resp, 9, resp.length), false);
        h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", grpcStatus));
    }

    @Test
    void statsForAllMethodsCountsPerMethod() {
        try (HttpFilterHarness h = harness("stats_for_all_methods: true")) {
            unaryCall(h, PATH, "0");
        }
        try (HttpFilterHarness h = harness("stats_for_all_methods: true")) {
            unaryCall(h, PATH + "?q=1", "14");
        }
        assertThat(store.counter(M + "success")).isEqualTo(1);
        assertThat(store.counter(M + "failure")).isEqualTo(1);
        assertThat(store.counter(M + "total")).isEqualTo(2);
        assertThat(store.counter(M + "0")).isEqualTo(1);
        assertThat(store.counter(M + "14")).isEqualTo(1);
        assertThat(store.counter(M + "request_message_count")).isEqualTo(2);
        assertThat(store.counter(M + "response_message_count")).isEqualTo(4);
        assertThat(store.counter(P + "total")).isZero();
    }

    @Test
    void byDefaultEveryMethodSharesTheBucketWithoutNames() {
        try (HttpFilterHarness h = harness("")) {
            unaryCall(h, PATH, "0");
        }
        assertThat(store.counter(P + "success")).isEqualTo(1);
        assertThat(store.counter(P + "total")).isEqualTo(1);
        assertThat(store.counter(P + "request_message_count")).isEqualTo(1);
        assertThat(store.counter(P + "response_message_count")).isEqualTo(2);
        assertThat(store.counter(M + "total")).isZero();
    }

    @Test
    void allowlistNamesOnlyItsMethods() {
        String config = "individual_method_stats_allowlist: { services: [ { name: grpc.testing.TestService, method_names: [ UnaryCall ] } ] }";
        try (HttpFilterHarness h = harness(config)) {
            unaryCall(h, PATH, "0");
        }
        try (HttpFilterHarness h = harness(config)) {
            unaryCall(h, "/grpc.testing.TestService/EmptyCall", "0");
        }
        try (HttpFilterHarness h = harness(config)) {
            unaryCall(h, "/not/grpc/path", "0"); // not /service/method: not counted at all
        }
        assertThat(store.counter(M + "total")).isEqualTo(1);
        assertThat(store.counter(P + "total")).isEqualTo(1);
        assertThat(store.counter(P + "grpc.testing.TestService.EmptyCall.total")).isZero();
    }

    @Test
    void replaceDotsInServiceName() {
        try (HttpFilterHarness h = harness("{ stats_for_all_methods: true, replace_dots_in_grpc_service_name: true }")) {
            unaryCall(h, PATH, "0");
        }
        assertThat(store.counter(P + "grpc_testing_TestService.UnaryCall.success")).isEqualTo(1);
    }

    @Test
    void trailersOnlyResponseCountsFromHeaders() {
        try (HttpFilterHarness h = harness("stats_for_all_methods: true")) {
            h.decodeHeaders(grpcRequest(PATH), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc",
                    "grpc-status", "12"), true);
        }
        assertThat(store.counter(M + "12")).isEqualTo(1);
        assertThat(store.counter(M + "failure")).isEqualTo(1);
        assertThat(store.counter(M + "total")).isEqualTo(1);
    }

    @Test
    void nonGrpcRequestsAndUnknownClustersAreNotCounted() {
        try (HttpFilterHarness h = harness("stats_for_all_methods: true")) {
            h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", PATH, "content-type", "application/json"), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "0"), true);
        }
        try (HttpFilterHarness h = harness("stats_for_all_methods: true")) {
            h.route(routeTo("nowhere"));
            unaryCall(h, PATH, "0");
        }
        assertThat(store.counterValues().keySet()).noneMatch(k -> k.startsWith("cluster."));
    }

    @Test
    void emitFilterStateKeepsTheMessageCounts() {
        TestStreamInfo info = new TestStreamInfo();
        try (HttpFilterHarness h = harness("emit_filter_state: true", info)) {
            h.decodeHeaders(grpcRequest(PATH), false);
            assertThat(info.state(GrpcStatsSettings.FILTER_STATE)).isNull();
            h.decodeData(buf(concat(frame("a"), frame("b"))), true);
            assertThat(info.state(GrpcStatsSettings.FILTER_STATE)).isEqualTo(
                    FilterObject.newBuilder().setRequestMessageCount(2).build());
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false);
            h.encodeResponseData(buf(frame("c")), false);
            h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0"));
        }
        assertThat(info.state(GrpcStatsSettings.FILTER_STATE)).isEqualTo(
                FilterObject.newBuilder().setRequestMessageCount(2).setResponseMessageCount(1).build());
        assertThat(GrpcStatsSettings.FILTER_STATE.name()).isEqualTo("envoy.filters.http.grpc_stats");
    }

    @Test
    void noFilterStateWithoutEmitFilterState() {
        TestStreamInfo info = new TestStreamInfo();
        try (HttpFilterHarness h = harness("stats_for_all_methods: true", info)) {
            unaryCall(h, PATH, "0");
        }
        assertThat(info.state(GrpcStatsSettings.FILTER_STATE)).isNull();
    }

    @Test
    void upstreamRqTimeWhenEnabledAndAnUpstreamWasChosen() {
        TestStreamInfo info = new TestStreamInfo();
        info.setUpstreamHost("127.0.0.1:1");
        try (HttpFilterHarness h = harness("{ stats_for_all_methods: true, enable_upstream_stats: true }", info)) {
            h.decodeHeaders(grpcRequest(PATH), false);
            h.manualDispatcher().advance(1_000); // before the request ends: not counted
            h.decodeData(buf(frame("request")), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false);
            h.manualDispatcher().advance(30);
            h.encodeResponseData(buf(frame("one")), false);
            h.manualDispatcher().advance(7);
            h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0"));
        }
        try (HttpFilterHarness h = harness("{ stats_for_all_methods: true }", info)) {
            unaryCall(h, PATH, "0");
        }
        try (HttpFilterHarness h = harness("{ stats_for_all_methods: true, enable_upstream_stats: true }")) {
            unaryCall(h, PATH, "0"); // no upstream host: a local answer
        }
        assertThat(store.histograms()).containsKey(M + "upstream_rq_time");
        assertThat(store.histograms().get(M + "upstream_rq_time").count()).isEqualTo(1);
        assertThat(store.histograms().get(M + "upstream_rq_time").totalAmount())
                .as("from the request's end to the response's, on the event loop's clock").isEqualTo(37.0);
    }
}
