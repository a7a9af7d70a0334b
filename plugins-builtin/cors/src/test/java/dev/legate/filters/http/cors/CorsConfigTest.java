package dev.legate.filters.http.cors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.legate.api.ConfigException;
import dev.legate.filters.network.httpconnectionmanager.route.RouteTable;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Config tier: registration, YAML → compiled policy, and each error message. */
class CorsConfigTest {

    private static final String CORS = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

    private final CorsFilterFactory factory = new CorsFilterFactory();

    @Test
    void registration() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.cors");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors");
        assertThat(factory.perRouteConfigType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy");
        assertThat(factory.perRouteConfigType().javaType()).isEqualTo(CorsPolicy.class);
        assertThat(factory.isTerminal()).isFalse();
    }

    @Test
    void createCountsUnderTheHcmScope() {
        TestFactoryContext ctx = new TestFactoryContext();
        CorsSettings settings = CorsSettings.from(Cors.getDefaultInstance(), ctx.withStats(ctx.stats().scope("http.ingress")));
        settings.stats().originValid.inc();
        settings.stats().originInvalid.add(2);
        assertThat(ctx.statsStore().counter("http.ingress.cors.origin_valid")).isEqualTo(1);
        assertThat(ctx.statsStore().counter("http.ingress.cors.origin_invalid")).isEqualTo(2);
        assertThat(factory.create(Cors.getDefaultInstance(), ctx)).isNotNull();
    }

    @Test
    void everyFieldCompiles() {
        CorsSettings.Policy p = CorsSettings.Policy.compile(CorsYaml.policy("""
                allow_origin_string_match:
                - exact: https://app.example.com
                - prefix: https://dev.
                - suffix: .partner.org
                  ignore_case: true
                - contains: internal
                - safe_regex: { regex: "https://[a-z]+\\\\.test\\\\.net" }
                allow_methods: GET, POST
                allow_headers: x-token, content-type
                expose_headers: x-trace
                max_age: "600"
                allow_credentials: true
                allow_private_network_access: false
                forward_not_matching_preflights: false
                filter_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }
                shadow_enabled: { default_value: { numerator: 0 } }
                """), "");
        assertThat(p.allowOrigins()).hasSize(5);
        assertThat(p.allowsOrigin("https://app.example.com")).isTrue();
        assertThat(p.allowsOrigin("https://APP.example.com")).isFalse();
        assertThat(p.allowsOrigin("https://dev.example.com")).isTrue();
        assertThat(p.allowsOrigin("https://x.PARTNER.org")).isTrue();
        assertThat(p.allowsOrigin("http://internal.corp")).isTrue();
        assertThat(p.allowsOrigin("https://abc.test.net")).isTrue();
        assertThat(p.allowsOrigin("https://abc.test.net.evil")).isFalse(); // safe_regex is a full match
        assertThat(p.allowsOrigin("https://evil.example")).isFalse();
        assertThat(p.allowMethods()).isEqualTo("GET, POST");
        assertThat(p.allowHeaders()).isEqualTo("x-token, content-type");
        assertThat(p.exposeHeaders()).isEqualTo("x-trace");
        assertThat(p.maxAge()).isEqualTo("600");
        assertThat(p.allowCredentials()).isTrue();
        assertThat(p.allowPrivateNetworkAccess()).isFalse();
        assertThat(p.forwardNotMatchingPreflights()).isFalse();
        assertThat(p.filterEnabled()).isEqualTo(new CorsSettings.Fraction(100, 100));
        assertThat(p.shadowEnabled()).isEqualTo(new CorsSettings.Fraction(0, 100));
    }

    @Test
    void unsetFieldsStayUnsetSoThatALessSpecificLevelCanSetThem() {
        CorsSettings.Policy p = CorsSettings.Policy.compile(CorsPolicy.getDefaultInstance(), "");
        assertThat(p.allowOrigins()).isEmpty();
        assertThat(p.allowMethods()).isEmpty();
        assertThat(p.maxAge()).isEmpty();
        assertThat(p.allowCredentials()).isNull();
        assertThat(p.allowPrivateNetworkAccess()).isNull();
        assertThat(p.forwardNotMatchingPreflights()).isNull();
        assertThat(p.filterEnabled()).isNull();
        assertThat(p.shadowEnabled()).isNull();
        // Envoy: neither filter_enabled nor shadow_enabled ⇒ enabled for every request, shadow off.
        assertThat(p.drawEnabled(new SplittableRandom(1))).isTrue();
        assertThat(p.drawShadowEnabled(new SplittableRandom(1))).isFalse();
    }

    @Test
    void aMatcherThatMatchesTheLiteralStarAllowsEveryOrigin() {
        assertThat(CorsSettings.Policy.compile(CorsYaml.policy("allow_origin_string_match: [ { exact: '*' } ]"), "")
                .allowsOrigin("https://anything.example")).isTrue();
        assertThat(CorsSettings.Policy.compile(CorsYaml.policy("allow_origin_string_match: [ { prefix: '*' } ]"), "")
                .allowsOrigin("null")).isTrue();
        assertThat(CorsSettings.Policy.compile(CorsYaml.policy("allow_origin_string_match: [ { exact: 'x' } ]"), "")
                .allowsOrigin("*x")).isFalse();
    }

    @Test
    void theDeprecatedRouteCorsPolicyCompilesTheSameFields() {
        CorsSettings.Policy p = CorsSettings.Policy.compile(CorsYaml.legacyPolicy("""
                allow_origin_string_match: [ { exact: "https://a.example", ignore_case: true } ]
                allow_methods: PUT
                allow_credentials: false
                filter_enabled: { default_value: { numerator: 0 } }
                forward_not_matching_preflights: true
                """), "", "");
        assertThat(p.allowsOrigin("HTTPS://A.EXAMPLE")).isTrue();
        assertThat(p.allowMethods()).isEqualTo("PUT");
        assertThat(p.allowCredentials()).isFalse();
        assertThat(p.forwardNotMatchingPreflights()).isTrue();
        assertThat(p.drawEnabled(new SplittableRandom(1))).isFalse();
    }

    @Test
    void errorsNameTheField() {
        assertError("allow_origin_string_match: [ { exact: a }, { prefix: '' } ]",
                "allow_origin_string_match[1].prefix: \"\" (expected: non-empty)");
        assertError("allow_origin_string_match: [ { suffix: '' } ]",
                "allow_origin_string_match[0].suffix: \"\" (expected: non-empty)");
        assertError("allow_origin_string_match: [ { contains: '' } ]",
                "allow_origin_string_match[0].contains: \"\" (expected: non-empty)");
        assertError("allow_origin_string_match: [ { safe_regex: { regex: 'https://(' } } ]",
                "allow_origin_string_match[0].safe_regex.regex: \"https://(\" (expected: a valid regex: missing closing ) "
                        + "at \"https://(\")");
        assertError("allow_origin_string_match: [ { safe_regex: { regex: '' } } ]",
                "allow_origin_string_match[0].safe_regex.regex: \"\" (expected: a regex)");
        assertError("allow_origin_string_match: [ { safe_regex: { regex: 'a.*' }, ignore_case: true } ]",
                "allow_origin_string_match[0].ignore_case: true (expected: false with safe_regex; "
                        + "ignore_case has no effect for safe_regex)");
        assertError("allow_origin_string_match: [ { custom: { name: x, typed_config: { '@type': "
                        + "'type.googleapis.com/envoy.config.route.v3.FilterConfig' } } } ]",
                "allow_origin_string_match[0].custom: not supported yet");
        assertError("allow_origin_string_match: [ { ignore_case: true } ]",
                "allow_origin_string_match[0]: missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
        assertError("allow_methods: \"GET\\r\\nset-cookie: x\"",
                "allow_methods: \"GET\\r\\nset-cookie: x\" (expected: no CR, LF or NUL)");
        assertError("allow_headers: \"a\\nb\"", "allow_headers: \"a\\nb\" (expected: no CR, LF or NUL)");
        assertError("expose_headers: \"a\\rb\"", "expose_headers: \"a\\rb\" (expected: no CR, LF or NUL)");
        assertError("max_age: \"1\\n\"", "max_age: \"1\\n\" (expected: no CR, LF or NUL)");
        assertError("filter_enabled: { runtime_key: cors.enabled }",
                "filter_enabled.default_value: missing (expected: a FractionalPercent)");
        assertError("shadow_enabled: { }", "shadow_enabled.default_value: missing (expected: a FractionalPercent)");
        CorsPolicy badDenominator = CorsPolicy.newBuilder().setFilterEnabled(RuntimeFractionalPercent.newBuilder()
                .setDefaultValue(FractionalPercent.newBuilder().setNumerator(1).setDenominatorValue(7))).build();
        assertThatThrownBy(() -> CorsSettings.Policy.compile(badDenominator, ""))
                .isInstanceOf(ConfigException.class)
                .hasMessage("filter_enabled.default_value.denominator: 7 (expected: HUNDRED, TEN_THOUSAND or MILLION)");
        // The path given by the caller is put in front.
        assertThatThrownBy(() -> CorsSettings.Policy.compile(CorsYaml.policy("allow_origin_string_match: [ { suffix: '' } ]"),
                "virtual_hosts[0].typed_per_filter_config[\"envoy.filters.http.cors\"]"))
                .hasMessage("virtual_hosts[0].typed_per_filter_config[\"envoy.filters.http.cors\"]"
                        + ".allow_origin_string_match[0].suffix: \"\" (expected: non-empty)");
    }

    @Test
    void aRuntimeKeyIsWarnedAboutAndTheDefaultValueApplies() {
        Logger logger = (Logger) LoggerFactory.getLogger(CorsSettings.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            CorsSettings.Policy p = CorsSettings.Policy.compile(CorsYaml.policy("""
                    filter_enabled: { runtime_key: cors.www.enabled, default_value: { numerator: 0 } }
                    shadow_enabled: { runtime_key: cors.www.shadow, default_value: { numerator: 1, denominator: MILLION } }
                    """), "");
            assertThat(p.drawEnabled(new SplittableRandom(1))).isFalse();
            assertThat(appender.list).extracting(ILoggingEvent::getLevel).containsOnly(Level.WARN);
            assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                    "filter_enabled.runtime_key: \"cors.www.enabled\" is not looked up (Legate has no runtime); "
                            + "default_value 0/100 applies",
                    "shadow_enabled.runtime_key: \"cors.www.shadow\" is not looked up (Legate has no runtime); "
                            + "default_value 1/1000000 applies");
        } finally {
            logger.detachAppender(appender);
        }
    }

    @Test
    void fractionsAreDrawnPerRequestFromTheGivenGenerator() {
        RandomGenerator never = () -> {
            throw new AssertionError("no draw expected");
        };
        assertThat(new CorsSettings.Fraction(0, 100).sample(never)).isFalse();
        assertThat(new CorsSettings.Fraction(100, 100).sample(never)).isTrue();
        assertThat(new CorsSettings.Fraction(150, 100).sample(never)).isTrue();
        // Envoy's rule, random % denominator < numerator: 24 of 100 is on at 25%, 25 is off.
        assertThat(new CorsSettings.Fraction(25, 100).sample(fixed(24, 100))).isTrue();
        assertThat(new CorsSettings.Fraction(25, 100).sample(fixed(25, 100))).isFalse();
        assertThat(new CorsSettings.Fraction(1, 1_000_000).sample(fixed(0, 1_000_000))).isTrue();

        SplittableRandom seeded = new SplittableRandom(20_261_123L);
        int on = 0;
        for (int i = 0; i < 10_000; i++) {
            if (new CorsSettings.Fraction(25, 100).sample(seeded)) {
                on++;
            }
        }
        // Fixed seed, so the count is the same every run; expected 2500 (sd ~43): a draw that ignored the
        // fraction (0, 10000 or ~5000) is far outside.
        assertThat(on).isBetween(2_300, 2_700);
    }

    /** A generator whose {@code nextLong(bound)} answers {@code value} for {@code bound} (and fails otherwise). */
    private static RandomGenerator fixed(long value, long expectedBound) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new AssertionError("nextLong(bound) expected");
            }

            @Override
            public long nextLong(long bound) {
                assertThat(bound).isEqualTo(expectedBound);
                return value;
            }
        };
    }

    @Test
    void theRouteTableHandsTheFilterPoliciesCompiledAtLoadInEveryFormTheHostAccepts() {
        RouteTable t = CorsYaml.table("""
                typed_per_filter_config:
                  envoy.filters.http.cors: { "@type": %1$s, max_age: "1" }
                virtual_hosts:
                - name: www
                  domains: ["*"]
                  typed_per_filter_config:
                    envoy.filters.http.cors:
                      "@type": type.googleapis.com/xds.type.v3.TypedStruct
                      type_url: %1$s
                      value: { allow_methods: GET }
                  routes:
                  - match: { prefix: "/wrapped" }
                    route: { cluster: backend }
                    typed_per_filter_config:
                      envoy.filters.http.cors:
                        "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                        config: { "@type": %1$s, allow_headers: x-a }
                  - match: { prefix: "/" }
                    route: { cluster: backend }
                """.formatted(CORS));
        List<Object> wrapped = t.route(TestHeaderMap.request("h", "/wrapped")).perFilterConfigs(CorsFilterFactory.NAME);
        assertThat(wrapped).hasSize(3).allSatisfy(o -> assertThat(o).isInstanceOf(CorsSettings.Policy.class));
        assertThat(((CorsSettings.Policy) wrapped.get(0)).allowHeaders()).isEqualTo("x-a");
        assertThat(((CorsSettings.Policy) wrapped.get(1)).allowMethods()).isEqualTo("GET");
        assertThat(((CorsSettings.Policy) wrapped.get(2)).maxAge()).isEqualTo("1");
        assertThat(t.route(TestHeaderMap.request("h", "/")).perFilterConfigs(CorsFilterFactory.NAME))
                .containsExactly(wrapped.get(1), wrapped.get(2));
        assertThat(t.route(TestHeaderMap.request("h", "/")).perFilterConfig(CorsFilterFactory.NAME))
                .isSameAs(wrapped.get(1));
    }

    @Test
    void aPolicyThatCannotRunIsAnErrorAtLoadNamingTheFullPath() {
        String bad = "{ \"@type\": " + CORS + ", allow_origin_string_match: [ { exact: a }, { safe_regex: { regex: \"https://(\" } } ] }";
        String good = "{ \"@type\": " + CORS + ", max_age: \"1\" }";
        String regexError = ".allow_origin_string_match[1].safe_regex.regex: \"https://(\" (expected: a valid regex: "
                + "missing closing ) at \"https://(\")";
        String entry = "typed_per_filter_config[\"envoy.filters.http.cors\"]";
        String config = """
                typed_per_filter_config: { envoy.filters.http.cors: %s }
                virtual_hosts:
                - name: www
                  domains: ["*"]
                  typed_per_filter_config: { envoy.filters.http.cors: %s }
                  routes:
                  - match: { prefix: "/" }
                    route: { cluster: backend }
                    typed_per_filter_config: { envoy.filters.http.cors: %s }
                  - match: { prefix: "/w" }
                    route: { weighted_clusters: { clusters: [ { name: backend, weight: 1,
                             typed_per_filter_config: { envoy.filters.http.cors: %s } } ] } }
                """;
        assertThatThrownBy(() -> CorsYaml.table(config.formatted(good, good, bad, good)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("route_config.virtual_hosts[0].routes[0]." + entry + regexError);
        assertThatThrownBy(() -> CorsYaml.table(config.formatted(good, bad, good, good)))
                .hasMessage("route_config.virtual_hosts[0]." + entry + regexError);
        assertThatThrownBy(() -> CorsYaml.table(config.formatted(bad, good, good, good)))
                .hasMessage("route_config." + entry + regexError);
        assertThatThrownBy(() -> CorsYaml.table(config.formatted(good, good, good, bad)))
                .hasMessage("route_config.virtual_hosts[0].routes[1].route.weighted_clusters.clusters[0]." + entry + regexError);
        // Inside a FilterConfig the entry's path is the same; the field errors keep their own path.
        String wrapped = "{ \"@type\": type.googleapis.com/envoy.config.route.v3.FilterConfig, config: { \"@type\": "
                + CORS + ", filter_enabled: { runtime_key: k } } }";
        assertThatThrownBy(() -> CorsYaml.table(config.formatted(good, good, wrapped, good)))
                .hasMessage("route_config.virtual_hosts[0].routes[0]." + entry
                        + ".filter_enabled.default_value: missing (expected: a FractionalPercent)");
        assertThat(CorsYaml.table(config.formatted(good, good, good, good))).isNotNull();
    }

    @Test
    void theHookCompilesOneEntryAndNamesTheFieldRelativeToIt() {
        Object compiled = factory.createRouteSpecificConfig(CorsYaml.policy("allow_methods: GET"), new TestFactoryContext());
        assertThat(compiled).isInstanceOf(CorsSettings.Policy.class);
        assertThat(((CorsSettings.Policy) compiled).allowMethods()).isEqualTo("GET");
        assertThatThrownBy(() -> factory.createRouteSpecificConfig(
                CorsYaml.policy("allow_origin_string_match: [ { contains: '' } ]"), new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("allow_origin_string_match[0].contains: \"\" (expected: non-empty)");
    }

    @Test
    void aPerRouteRuntimeKeyIsWarnedAboutWhenTheRouteTableIsBuilt() {
        Logger logger = (Logger) LoggerFactory.getLogger(CorsSettings.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            CorsYaml.table("""
                    virtual_hosts:
                    - name: www
                      domains: ["*"]
                      typed_per_filter_config:
                        envoy.filters.http.cors:
                          "@type": %s
                          filter_enabled: { runtime_key: cors.www.enabled, default_value: { numerator: 50 } }
                      routes: [ { match: { prefix: "/" }, route: { cluster: backend } } ]
                    """.formatted(CORS));
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "typed_per_filter_config[\"envoy.filters.http.cors\"].filter_enabled.runtime_key: \"cors.www.enabled\" "
                        + "is not looked up (Legate has no runtime); default_value 50/100 applies");
    }

    private static void assertError(String yaml, String message) {
        CorsPolicy policy = CorsYaml.policy(yaml);
        assertThatThrownBy(() -> CorsSettings.Policy.compile(policy, "")).isInstanceOf(ConfigException.class)
                .hasMessage(message);
        // The deprecated route.v3.CorsPolicy has the same fields and the same errors.
        io.envoyproxy.envoy.config.route.v3.CorsPolicy legacy = CorsYaml.legacyPolicy(yaml);
        assertThatThrownBy(() -> CorsSettings.Policy.compile(legacy, "", "")).isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }
}
