package dev.legate.filters.http.cors;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.Route;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.LeakCheck;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** Filter tier: the CORS filter driven by the test kit's harness, no sockets. */
@ExtendWith(LeakCheck.class)
class CorsFilterTest {

    private static final String CORS = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";

    /** A virtual host whose one route forwards, with a CORS policy on the virtual host. */
    private static final String VHOST_POLICY = """
            name: www
            domains: ["*"]
            typed_per_filter_config:
              envoy.filters.http.cors:
                "@type": %s
                allow_origin_string_match: [ { exact: "https://app.example" }, { suffix: ".trusted.example" } ]
                allow_methods: "GET, PUT"
                allow_headers: "x-token"
                expose_headers: "x-trace"
                max_age: "600"
                allow_credentials: true
            routes:
            - name: api
              match: { prefix: "/" }
              route: { cluster: backend }
            """.formatted(CORS);

    private final TestFactoryContext context = new TestFactoryContext();
    private final CorsSettings settings = CorsSettings.from(Cors.getDefaultInstance(),
            context.withStats(context.stats().scope("http.ingress")));

    /** A harness whose route comes from the real route table (policies compiled by the factory's hook). */
    private HttpFilterHarness harness(Route route) {
        return HttpFilterHarness.of(callbacks -> new CorsFilter(settings, new SplittableRandom(7), callbacks)).route(route);
    }

    private HttpFilterHarness harness(String vhostYaml) {
        return harness(CorsYaml.route(vhostYaml));
    }

    private static TestHeaderMap preflight(String origin) {
        return TestHeaderMap.of(":method", "OPTIONS", ":path", "/api", ":authority", "api.example",
                "origin", origin, "access-control-request-method", "PUT", "access-control-request-headers", "x-token");
    }

    private static TestHeaderMap get(String origin) {
        return TestHeaderMap.of(":method", "GET", ":path", "/api", ":authority", "api.example", "origin", origin);
    }

    private long valid() {
        return context.statsStore().counter("http.ingress.cors.origin_valid");
    }

    private long invalid() {
        return context.statsStore().counter("http.ingress.cors.origin_invalid");
    }

    @Test
    void aPreflightFromAnAllowedOriginIsAnsweredHere() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.decodedHeaders()).as("never passed on to the router").isNull();
            HeaderMap r = h.encodedHeaders();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.get("access-control-allow-origin")).isEqualTo("https://app.example");
            assertThat(r.get("access-control-allow-credentials")).isEqualTo("true");
            assertThat(r.get("access-control-allow-methods")).isEqualTo("GET, PUT");
            assertThat(r.get("access-control-allow-headers")).isEqualTo("x-token");
            assertThat(r.get("access-control-max-age")).isEqualTo("600");
            // The answer passes this filter's encodeHeaders too, as in Envoy.
            assertThat(r.get("access-control-expose-headers")).isEqualTo("x-trace");
            assertThat(r.contains("access-control-allow-private-network")).isFalse();
            assertThat(r.contains("content-type")).isFalse();
            assertThat(h.responseComplete()).isTrue();
            assertThat(h.encodedBody()).isEmpty();
            assertThat(h.streamInfo().responseCodeDetails()).isEqualTo("cors_response");
            assertThat(valid()).isEqualTo(1);
            assertThat(invalid()).isZero();
        }
    }

    @Test
    void starEchoesTheRequestedMethodAndHeaders() {
        try (HttpFilterHarness h = harness(VHOST_POLICY.replace("\"GET, PUT\"", "\"*\"").replace("\"x-token\"", "\"*\""))) {
            TestHeaderMap req = preflight("https://app.example");
            req.set("access-control-request-method", "DELETE");
            req.set("access-control-request-headers", "x-a, x-b");
            h.decodeHeaders(req, true);
            assertThat(h.encodedHeaders().get("access-control-allow-methods")).isEqualTo("DELETE");
            assertThat(h.encodedHeaders().get("access-control-allow-headers")).isEqualTo("x-a, x-b");
        }
    }

    @Test
    void aPreflightFromADisallowedOriginIsForwardedByDefault() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            assertThat(h.decodeHeaders(preflight("https://evil.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders()).isNotNull();
            assertThat(h.localReplies()).isEmpty();
            assertThat(h.encodedHeaders()).isNull();
            // The upstream's answer is left alone.
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "405"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
            assertThat(invalid()).isEqualTo(1);
            assertThat(valid()).isZero();
        }
    }

    @Test
    void aPreflightFromADisallowedOriginIsAnsweredWithoutAllowOriginWhenNotForwarded() {
        String yaml = VHOST_POLICY.replace("allow_credentials: true", """
                allow_credentials: true
                    forward_not_matching_preflights: false""");
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://evil.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.decodedHeaders()).isNull();
            HeaderMap r = h.encodedHeaders();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.contains("access-control-allow-origin")).isFalse();
            assertThat(r.contains("access-control-expose-headers")).isFalse();
            // As in Envoy: the preflight answer carries allow-credentials whatever the origin.
            assertThat(r.get("access-control-allow-credentials")).isEqualTo("true");
            assertThat(r.get("access-control-allow-methods")).isEqualTo("GET, PUT");
            assertThat(r.get("access-control-max-age")).isEqualTo("600");
            assertThat(invalid()).isEqualTo(1);
        }
    }

    @Test
    void anActualRequestFromAnAllowedOriginGetsTheHeadersOnItsResponse() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            assertThat(h.decodeHeaders(get("https://x.trusted.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("origin")).isEqualTo("https://x.trusted.example");
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "access-control-allow-origin", "*"), false);
            HeaderMap r = h.encodedHeaders();
            assertThat(r.getAll("access-control-allow-origin")).containsExactly("https://x.trusted.example");
            assertThat(r.get("access-control-allow-credentials")).isEqualTo("true");
            assertThat(r.get("access-control-expose-headers")).isEqualTo("x-trace");
            assertThat(r.contains("access-control-allow-methods")).isFalse();
            assertThat(r.contains("access-control-max-age")).isFalse();
            assertThat(valid()).isEqualTo(1);
        }
    }

    @Test
    void anOptionsRequestWithoutRequestMethodIsAnActualRequest() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            TestHeaderMap req = preflight("https://app.example");
            req.remove("access-control-request-method");
            assertThat(h.decodeHeaders(req, true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "204"), true);
            assertThat(h.encodedHeaders().get("access-control-allow-origin")).isEqualTo("https://app.example");
            assertThat(h.encodedHeaders().contains("access-control-allow-methods")).isFalse();
        }
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeaders() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            h.decodeHeaders(get("https://app.example.evil"), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
            assertThat(invalid()).isEqualTo(1);
        }
    }

    @Test
    void aRequestWithoutOriginIsNotCounted() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "OPTIONS", ":path", "/", "access-control-request-method", "GET"), true);
            assertThat(h.decodedHeaders()).isNotNull();
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
        }
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            h.decodeHeaders(get(""), true);
            assertThat(h.decodedHeaders()).isNotNull();
        }
        assertThat(valid()).isZero();
        assertThat(invalid()).isZero();
    }

    @Test
    void localRepliesOfLaterFiltersGetTheHeadersToo() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            h.decodeHeaders(get("https://app.example"), true);
            h.sendLocalReply(503, "no healthy upstream", null, "no_healthy_upstream");
            assertThat(h.lastLocalReply().headers().get("access-control-allow-origin")).isEqualTo("https://app.example");
        }
    }

    @Test
    void filterEnabledZeroTurnsTheFilterOffOnARoute() {
        String yaml = VHOST_POLICY.replace("""
                  route: { cluster: backend }
                """, """
                  route: { cluster: backend }
                  typed_per_filter_config:
                    envoy.filters.http.cors:
                      "@type": %s
                      filter_enabled: { default_value: { numerator: 0 } }
                """.formatted(CORS));
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.localReplies()).isEmpty();
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
        }
        assertThat(valid() + invalid()).as("a disabled filter counts nothing").isZero();
    }

    @Test
    void shadowModeCountsButEnforcesNothing() {
        String yaml = VHOST_POLICY.replace("allow_credentials: true", """
                allow_credentials: true
                    filter_enabled: { default_value: { numerator: 0 } }
                    shadow_enabled: { default_value: { numerator: 100 } }""");
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.localReplies()).isEmpty();
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
        }
        try (HttpFilterHarness h = harness(yaml)) {
            h.decodeHeaders(get("https://evil.example"), true);
        }
        assertThat(valid()).isEqualTo(1);
        assertThat(invalid()).isEqualTo(1);
    }

    @Test
    void filterEnabledTakesPrecedenceOverShadowEnabled() {
        String yaml = VHOST_POLICY.replace("allow_credentials: true", """
                allow_credentials: true
                    shadow_enabled: { default_value: { numerator: 100 } }""");
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().get("access-control-allow-origin")).isEqualTo("https://app.example");
        }
    }

    @Test
    void eachFieldComesFromTheMostSpecificPolicyThatSetsIt() {
        // The route sets only allow_methods and credentials; origins, headers and max_age come from the virtual host.
        String yaml = VHOST_POLICY.replace("""
                  route: { cluster: backend }
                """, """
                  route: { cluster: backend }
                  typed_per_filter_config:
                    envoy.filters.http.cors:
                      "@type": %s
                      allow_methods: "POST"
                      allow_credentials: false
                """.formatted(CORS));
        try (HttpFilterHarness h = harness(yaml)) {
            h.decodeHeaders(preflight("https://app.example"), true);
            HeaderMap r = h.encodedHeaders();
            assertThat(r.get("access-control-allow-origin")).isEqualTo("https://app.example");
            assertThat(r.get("access-control-allow-methods")).isEqualTo("POST");
            assertThat(r.contains("access-control-allow-credentials")).isFalse();
            assertThat(r.get("access-control-allow-headers")).isEqualTo("x-token");
            assertThat(r.get("access-control-max-age")).isEqualTo("600");
        }
    }

    @Test
    void enabledComesFromTheMostSpecificPolicyOnly() {
        // The virtual host disables the filter, but the route's own policy (unset filter_enabled) enables it.
        String yaml = VHOST_POLICY.replace("allow_credentials: true", """
                allow_credentials: true
                    filter_enabled: { default_value: { numerator: 0 } }""").replace("""
                  route: { cluster: backend }
                """, """
                  route: { cluster: backend }
                  typed_per_filter_config:
                    envoy.filters.http.cors:
                      "@type": %s
                      max_age: "5"
                """.formatted(CORS));
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().get("access-control-max-age")).isEqualTo("5");
        }
    }

    @Test
    void aRouteConfigurationPolicyAppliesWhenNothingMoreSpecificExists() {
        String yaml = """
                name: www
                domains: ["*"]
                routes: [ { match: { prefix: "/" }, route: { cluster: backend } } ]
                """;
        String routeConfig = """
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": %s
                    allow_origin_string_match: [ { prefix: "https://" } ]
                    max_age: "1"
                """.formatted(CORS);
        try (HttpFilterHarness h = harness(CorsYaml.route(yaml, routeConfig))) {
            assertThat(h.decodeHeaders(preflight("https://any.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().get("access-control-max-age")).isEqualTo("1");
        }
    }

    @Test
    void theRouteConfigurationLevelFillsWhatTheMoreSpecificLevelsLeaveUnset() {
        // Each of the four levels sets one field; the route configuration's allow_methods and allow_headers are
        // used although the route and the virtual host have policies (Envoy merges every level).
        String vhost = """
                name: www
                domains: ["*"]
                typed_per_filter_config:
                  envoy.filters.http.cors: { "@type": %1$s, allow_origin_string_match: [ { exact: "https://app.example" } ] }
                routes:
                - match: { prefix: "/" }
                  route:
                    weighted_clusters:
                      clusters:
                      - name: backend
                        weight: 1
                        typed_per_filter_config:
                          envoy.filters.http.cors: { "@type": %1$s, expose_headers: "x-from-weighted-cluster" }
                  typed_per_filter_config:
                    envoy.filters.http.cors: { "@type": %1$s, max_age: "30", allow_headers: "x-from-route" }
                """.formatted(CORS);
        String routeConfig = """
                typed_per_filter_config:
                  envoy.filters.http.cors:
                    "@type": %s
                    allow_methods: "PATCH"
                    allow_headers: "x-from-route-config"
                    max_age: "99"
                    allow_origin_string_match: [ { exact: "https://other.example" } ]
                """.formatted(CORS);
        try (HttpFilterHarness h = harness(CorsYaml.route(vhost, routeConfig))) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            HeaderMap r = h.encodedHeaders();
            assertThat(r.get("access-control-allow-origin")).as("virtual host over route configuration")
                    .isEqualTo("https://app.example");
            assertThat(r.get("access-control-allow-methods")).as("route configuration only").isEqualTo("PATCH");
            assertThat(r.get("access-control-allow-headers")).as("route over route configuration").isEqualTo("x-from-route");
            assertThat(r.get("access-control-max-age")).isEqualTo("30");
            assertThat(r.get("access-control-expose-headers")).as("weighted cluster").isEqualTo("x-from-weighted-cluster");
        }
        try (HttpFilterHarness h = harness(CorsYaml.route(vhost, routeConfig))) {
            assertThat(h.decodeHeaders(preflight("https://other.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        }
        assertThat(valid()).isEqualTo(1);
        assertThat(invalid()).isEqualTo(1);
    }

    @Test
    void theDeprecatedCorsFieldsApplyWhenNoTypedPolicyExists() {
        String yaml = """
                name: www
                domains: ["*"]
                cors: { allow_origin_string_match: [ { exact: "https://app.example" } ], max_age: "60", allow_methods: GET }
                routes:
                - match: { prefix: "/" }
                  route: { cluster: backend, cors: { allow_methods: "PATCH" } }
                """;
        try (HttpFilterHarness h = harness(yaml)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().get("access-control-allow-methods")).isEqualTo("PATCH");
            assertThat(h.encodedHeaders().get("access-control-max-age")).isEqualTo("60");
        }
        // With a typed policy anywhere, the deprecated fields are ignored (Envoy >= 1.27).
        String typed = yaml.replace("routes:", """
                typed_per_filter_config:
                  envoy.filters.http.cors: { "@type": %s, allow_origin_string_match: [ { exact: "https://other.example" } ] }
                routes:""".formatted(CORS));
        try (HttpFilterHarness h = harness(typed)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        }
    }

    @Test
    void aPolicyInsideFilterConfigOrTypedStructWorks() {
        String yaml = VHOST_POLICY.replace("""
                  route: { cluster: backend }
                """, """
                  route: { cluster: backend }
                  typed_per_filter_config:
                    envoy.filters.http.cors:
                      "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig
                      config:
                        "@type": type.googleapis.com/xds.type.v3.TypedStruct
                        type_url: %s
                        value: { max_age: "7" }
                """.formatted(CORS));
        try (HttpFilterHarness h = harness(yaml)) {
            h.decodeHeaders(preflight("https://app.example"), true);
            assertThat(h.encodedHeaders().get("access-control-max-age")).isEqualTo("7");
            assertThat(h.encodedHeaders().get("access-control-allow-methods")).isEqualTo("GET, PUT");
        }
    }

    @Test
    void privateNetworkAccessIsAllowedOnlyWhenAskedFor() {
        String yaml = VHOST_POLICY.replace("allow_credentials: true", "allow_private_network_access: true");
        try (HttpFilterHarness h = harness(yaml)) {
            TestHeaderMap req = preflight("https://app.example");
            req.set("access-control-request-private-network", "true");
            h.decodeHeaders(req, true);
            assertThat(h.encodedHeaders().get("access-control-allow-private-network")).isEqualTo("true");
        }
        try (HttpFilterHarness h = harness(yaml)) {
            h.decodeHeaders(preflight("https://app.example"), true);
            assertThat(h.encodedHeaders().contains("access-control-allow-private-network")).isFalse();
        }
    }

    @Test
    void routesWithoutARouteEntryOrWithoutAPolicyAreLeftAlone() {
        String direct = VHOST_POLICY.replace("route: { cluster: backend }", "direct_response: { status: 200 }");
        try (HttpFilterHarness h = harness(direct)) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        }
        try (HttpFilterHarness h = harness("name: www\ndomains: ['*']\nroutes: [ { match: { prefix: '/' }, route: { cluster: b } } ]")) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
        }
        try (HttpFilterHarness h = HttpFilterHarness.of(callbacks -> new CorsFilter(settings, new SplittableRandom(7), callbacks))) {
            assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        }
        assertThat(valid() + invalid()).isZero();
    }

    @Test
    void aDeprecatedPolicyThatDoesNotCompileLeavesRequestsAloneAndIsCompiledAndLoggedOnce() {
        String yaml = """
                name: www
                domains: ["*"]
                cors: { allow_origin_string_match: [ { safe_regex: { regex: "(" } } ], max_age: "60" }
                routes: [ { name: api, match: { prefix: "/" }, route: { cluster: backend } } ]
                """;
        Route route = CorsYaml.route(yaml);
        Logger logger = (Logger) LoggerFactory.getLogger(CorsSettings.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            for (int i = 0; i < 3; i++) {
                try (HttpFilterHarness h = harness(route)) {
                    assertThat(h.decodeHeaders(preflight("https://app.example"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
                    h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
                    assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
                }
            }
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.ERROR);
        assertThat(appender.list.get(0).getFormattedMessage()).isEqualTo("virtual host \"www\" cors: CORS policy not "
                + "applied to requests: allow_origin_string_match[0].safe_regex.regex: \"(\" (expected: a valid "
                + "regex: missing closing ) at \"(\")");
        assertThat(valid() + invalid()).isZero();
    }

    @Test
    void repeatedOriginHeadersAreJoinedAsEnvoyDoes() {
        try (HttpFilterHarness h = harness(VHOST_POLICY)) {
            TestHeaderMap req = get("https://app.example");
            req.add("origin", "https://app.example");
            h.decodeHeaders(req, true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(corsHeaders(h.encodedHeaders())).isEmpty();
            assertThat(invalid()).isEqualTo(1);
        }
    }

    private static List<String> corsHeaders(HeaderMap headers) {
        List<String> names = new java.util.ArrayList<>();
        headers.forEach((k, v) -> {
            if (k.startsWith("access-control-")) {
                names.add(k);
            }
        });
        return names;
    }
}
