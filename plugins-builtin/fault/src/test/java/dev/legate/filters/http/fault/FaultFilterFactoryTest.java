package dev.legate.filters.http.fault;

import static dev.legate.filters.http.fault.FaultConfigs.logged;
import static dev.legate.filters.http.fault.FaultConfigs.settings;
import static dev.legate.filters.http.fault.FaultConfigs.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import org.junit.jupiter.api.Test;

/** Config tier: YAML → {@link FaultSettings}, each error message, the warnings, and the factory's registration. */
class FaultFilterFactoryTest {

    private final FaultFilterFactory factory = new FaultFilterFactory();

    @Test
    void registersEnvoysNameAndTypeForFilterAndRoute() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.fault");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault");
        assertThat(factory.perRouteConfigType()).isEqualTo(factory.configType());
        assertThat(factory.isTerminal()).isFalse();
        assertThat(factory.create(HTTPFault.getDefaultInstance(), new TestFactoryContext())).isNotNull();
    }

    @Test
    void everyFieldCompiles() {
        FaultSettings s = settings("""
                delay: { fixed_delay: 1.5s, percentage: { numerator: 5, denominator: TEN_THOUSAND } }
                abort: { http_status: 503, percentage: { numerator: 7 } }
                upstream_cluster: backend
                headers: [ { name: X-Fault, exact_match: "yes" } ]
                downstream_nodes: [ a, b ]
                max_active_faults: 3
                response_rate_limit: { fixed_limit: { limit_kbps: 32 }, percentage: { numerator: 1, denominator: MILLION } }
                disable_downstream_cluster_stats: true
                """);
        assertThat(s.delay()).isEqualTo(new FaultSettings.Delay(1500, new FaultSettings.Percentage(5, 10_000)));
        assertThat(s.abort()).isEqualTo(new FaultSettings.Abort(503, -1, false, new FaultSettings.Percentage(7, 100)));
        assertThat(s.upstreamCluster()).isEqualTo("backend");
        assertThat(s.headers()).hasSize(1);
        assertThat(s.headers().get(0).test(TestHeaderMap.of("x-fault", "yes"))).isTrue();
        assertThat(s.headers().get(0).test(TestHeaderMap.of("x-fault", "no"))).isFalse();
        assertThat(s.downstreamNodes()).containsExactlyInAnyOrder("a", "b");
        assertThat(s.maxActiveFaults()).isEqualTo(3);
        assertThat(s.responseRateLimit())
                .isEqualTo(new FaultSettings.RateLimit(32, new FaultSettings.Percentage(1, 1_000_000)));
        assertThat(s.disableDownstreamClusterStats()).isTrue();
    }

    @Test
    void headerVariantsAndDefaults() {
        FaultSettings s = settings("""
                delay: { header_delay: {}, percentage: { numerator: 100 } }
                abort: { header_abort: {}, percentage: { numerator: 100 } }
                response_rate_limit: { header_limit: {} }
                """);
        assertThat(s.delay().fromHeader()).isTrue();
        assertThat(s.abort().fromHeaders()).isTrue();
        assertThat(s.responseRateLimit().fixedKbps()).isZero();
        // an omitted percentage is the proto default, 0/100: the fault never fires
        assertThat(s.responseRateLimit().percentage()).isEqualTo(new FaultSettings.Percentage(0, 100));
        assertThat(s.maxActiveFaults()).isEqualTo(Long.MAX_VALUE);
        assertThat(s.upstreamCluster()).isEmpty();

        FaultSettings grpc = settings("abort: { grpc_status: 14, percentage: { numerator: 100 } }");
        assertThat(grpc.abort()).isEqualTo(new FaultSettings.Abort(0, 14, false, new FaultSettings.Percentage(100, 100)));
    }

    @Test
    void errorsNameTheField() {
        assertError("abort: { http_status: 700 }", "abort.http_status: 700 (expected: >= 200 and < 600)");
        assertError("abort: { http_status: 199 }", "abort.http_status: 199 (expected: >= 200 and < 600)");
        assertError("abort: { percentage: { numerator: 1 } }",
                "abort: no http_status, grpc_status or header_abort (expected: one of them)");
        assertError("delay: { percentage: { numerator: 1 } }",
                "delay: no fixed_delay or header_delay (expected: one of them)");
        assertError("delay: { fixed_delay: 0s }", "delay.fixed_delay: 0s 0ns (expected: > 0)");
        assertError("delay: { fixed_delay: -1s }", "delay.fixed_delay: -1s 0ns (expected: > 0)");
        assertError("response_rate_limit: { fixed_limit: { limit_kbps: 0 } }",
                "response_rate_limit.fixed_limit.limit_kbps: 0 (expected: >= 1)");
        assertError("response_rate_limit: { percentage: { numerator: 1 } }",
                "response_rate_limit: no fixed_limit or header_limit (expected: one of them)");
        assertError("abort: { http_status: 500, percentage: { numerator: 1, denominator: 7 } }",
                "abort.percentage.denominator: 7 (expected: HUNDRED, TEN_THOUSAND or MILLION)");
        assertError("headers: [ { exact_match: x } ]", "headers[0].name: \"\" (expected: a header name)");
        assertError("headers: [ { name: a }, { name: b, safe_regex_match: { regex: \"(\" } } ]",
                "headers[1].safe_regex_match.regex: \"(\" (expected: a valid regex: missing closing ) at \"(\")");
        assertError("headers: [ { name: a, range_match: { start: 5, end: 5 } } ]",
                "headers[0].range_match: [5, 5) (expected: start < end)");
        assertError("headers: [ { name: a, string_match: { prefix: \"\" } } ]",
                "headers[0].string_match.prefix: \"\" (expected: non-empty)");
        assertError("headers: [ { name: a, string_match: { ignore_case: true } } ]",
                "headers[0].string_match: missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
    }

    @Test
    void theFactoryRefusesABadConfigAtStartUp() {
        assertThatThrownBy(() -> factory.create(yaml("abort: { http_status: 600 }"), new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("abort.http_status: 600 (expected: >= 200 and < 600)");
    }

    @Test
    void runtimeKeysAndFilterMetadataAreStartUpWarnings() {
        HTTPFault config = yaml("""
                abort: { http_status: 503, percentage: { numerator: 10 } }
                abort_percent_runtime: my.abort_percent
                delay_duration_runtime: my.delay_ms
                filter_metadata: { k: v }
                """);
        assertThat(logged(() -> factory.create(config, new TestFactoryContext()))).containsExactly(
                "WARN envoy.filters.http.fault: abort_percent_runtime: \"my.abort_percent\" is ignored (Legate has no"
                        + " runtime; the configured value applies, as with an unset runtime key)",
                "WARN envoy.filters.http.fault: delay_duration_runtime: \"my.delay_ms\" is ignored (Legate has no"
                        + " runtime; the configured value applies, as with an unset runtime key)",
                "WARN envoy.filters.http.fault: filter_metadata is ignored (Legate has no dynamic metadata yet)");
        assertThat(logged(() -> factory.create(yaml("abort: { http_status: 503 }"), new TestFactoryContext())))
                .isEmpty();
    }

    @Test
    void aRoutesConfigIsCompiledAtLoadAndABadOneIsAConfigError() {
        HTTPFault bad = yaml("abort: { http_status: 42, percentage: { numerator: 100 } }");
        assertThatThrownBy(() -> factory.createRouteSpecificConfig(bad, new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("abort.http_status: 42 (expected: >= 200 and < 600)");
        FaultSettings good = factory.createRouteSpecificConfig(
                yaml("abort: { http_status: 418, percentage: { numerator: 100 } }"), new TestFactoryContext());
        assertThat(good.abort().httpStatus()).isEqualTo(418);
    }

    @Test
    void headerValuesParseLikeEnvoysSimpleAtoi() {
        assertThat(FaultSettings.parseUnsigned("250", Long.MAX_VALUE)).isEqualTo(250);
        assertThat(FaultSettings.parseUnsigned(" 250 ", Long.MAX_VALUE)).isEqualTo(250);
        assertThat(FaultSettings.parseUnsigned("+7", Long.MAX_VALUE)).isEqualTo(7);
        assertThat(FaultSettings.parseUnsigned("-7", Long.MAX_VALUE)).isEqualTo(-1);
        assertThat(FaultSettings.parseUnsigned("7ms", Long.MAX_VALUE)).isEqualTo(-1);
        assertThat(FaultSettings.parseUnsigned("", Long.MAX_VALUE)).isEqualTo(-1);
        assertThat(FaultSettings.parseUnsigned(null, Long.MAX_VALUE)).isEqualTo(-1);
        assertThat(FaultSettings.parseUnsigned("4294967296", 0xFFFF_FFFFL)).isEqualTo(-1);
    }

    private static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> settings(yaml)).isInstanceOf(ConfigException.class).hasMessage(message);
    }
}
