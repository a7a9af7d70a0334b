package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code envoy.filters.http.cors} end to end: the real proxy with the built distribution's CORS plugin ahead of
 * the router, a real origin, and real clients (curl and the JDK's HttpClient). The policy sits on the virtual
 * host ({@code typed_per_filter_config}), routes refine it, and a second virtual host uses the deprecated
 * {@code cors} fields. A policy Legate cannot run fails the start, naming its path.
 */
class CorsIT {

    private static final String CORS_POLICY = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
    private static final String APP = "https://app.example";
    private static final String EVIL = "https://evil.example";

    static TestOrigin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        origin = new TestOrigin("o");
        String routes = """
                { name: local_route,
                  virtual_hosts: [
                  { name: www, domains: ["*"],
                    typed_per_filter_config: { envoy.filters.http.cors: { "@type": %1$s,
                      allow_origin_string_match: [ { exact: "%2$s" }, { suffix: ".trusted.example", ignore_case: true } ],
                      allow_methods: "GET, PUT", allow_headers: "x-token", expose_headers: "x-trace",
                      max_age: "600", allow_credentials: true } },
                    routes: [
                      { match: { prefix: "/strict" }, route: { cluster: origin },
                        typed_per_filter_config: { envoy.filters.http.cors: { "@type": %1$s,
                          forward_not_matching_preflights: false } } },
                      { match: { prefix: "/off" }, route: { cluster: origin },
                        typed_per_filter_config: { envoy.filters.http.cors: { "@type": %1$s,
                          filter_enabled: { default_value: { numerator: 0 } } } } },
                      { match: { prefix: "/shadow" }, route: { cluster: origin },
                        typed_per_filter_config: { envoy.filters.http.cors: { "@type": %1$s,
                          filter_enabled: { default_value: { numerator: 0 } },
                          shadow_enabled: { default_value: { numerator: 100 } } } } },
                      { match: { prefix: "/wrapped" }, route: { cluster: origin },
                        typed_per_filter_config: { envoy.filters.http.cors: {
                          "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig,
                          config: { "@type": type.googleapis.com/xds.type.v3.TypedStruct, type_url: %1$s,
                                    value: { max_age: "7" } } } } },
                      { match: { prefix: "/" }, route: { cluster: origin } } ] },
                  { name: legacy, domains: ["legacy.example"],
                    cors: { allow_origin_string_match: [ { prefix: "https://" } ], allow_methods: "GET", max_age: "60" },
                    routes: [ { match: { prefix: "/" }, route: { cluster: origin, cors: { allow_methods: "PATCH" } } } ] } ] }
                """.formatted(CORS_POLICY, APP);
        String clusters = "[ " + Proxy.staticCluster("origin", "", origin.port()) + " ]";
        proxy = new Proxy(Proxy.httpConfig(routes, clusters,
                "{ name: envoy.filters.http.cors, typed_config: { \"@type\": "
                        + "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors } }"));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    /** What curl saw: the status and the response headers (names lower-cased; the last value of each). */
    record CurlResponse(int status, Map<String, String> headers, String body) {
    }

    /** Runs curl against the listener; {@code headers} are {@code "Name: value"} strings. */
    static CurlResponse curl(String method, String path, String... headers) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--http1.1", "-i", "-X", method,
                "--max-time", "10"));
        for (String h : headers) {
            cmd.add("-H");
            cmd.add(h);
        }
        cmd.add("http://127.0.0.1:" + proxy.port("listener_0") + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        int split = out.indexOf("\r\n\r\n");
        String[] lines = out.substring(0, split).split("\r\n");
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            h.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        return new CurlResponse(Integer.parseInt(lines[0].split(" ")[1]), h, out.substring(split + 4));
    }

    static HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("listener_0", path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return Proxy.CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static List<String> corsHeaders(Map<String, ?> headers) {
        return headers.keySet().stream().filter(k -> k.toLowerCase(Locale.ROOT).startsWith("access-control-")).toList();
    }

    /** Requests the origin has seen for {@code path}, as {@code METHOD /path}. */
    static long originSaw(String methodAndPath) {
        return origin.requests.stream().filter(methodAndPath::equals).count();
    }

    @Test
    void aPerRoutePolicyWithABadRegexFailsTheStartNamingItsPath() {
        String routes = """
                { virtual_hosts: [ { name: www, domains: ["*"], routes: [
                  { match: { prefix: "/" }, route: { cluster: origin },
                    typed_per_filter_config: { envoy.filters.http.cors: { "@type": %s,
                      allow_origin_string_match: [ { safe_regex: { regex: "https://(app" } } ] } } } ] } ] }
                """.formatted(CORS_POLICY);
        String config = Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("origin", "", origin.port()) + " ]",
                "{ name: envoy.filters.http.cors, typed_config: { \"@type\": "
                        + "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors } }");
        assertThatThrownBy(() -> new Proxy(config).close())
                .isInstanceOf(ConfigException.class)
                .hasMessageEndingWith("static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
                        + ".route_config.virtual_hosts[0].routes[0]"
                        + ".typed_per_filter_config[\"envoy.filters.http.cors\"].allow_origin_string_match[0]"
                        + ".safe_regex.regex: \"https://(app\" (expected: a valid regex: missing closing ) "
                        + "at \"https://(app\")");
    }

    @Test
    void aPreflightIsAnsweredByLegateWithTheAllowHeadersAndNeverReachesTheOrigin() throws Exception {
        CurlResponse r = curl("OPTIONS", "/api/preflight", "Origin: " + APP,
                "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: x-token");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).containsEntry("access-control-allow-origin", APP)
                .containsEntry("access-control-allow-credentials", "true")
                .containsEntry("access-control-allow-methods", "GET, PUT")
                .containsEntry("access-control-allow-headers", "x-token")
                .containsEntry("access-control-max-age", "600")
                .doesNotContainKey("x-origin");
        assertThat(r.body()).isEmpty();
        assertThat(originSaw("OPTIONS /api/preflight")).isZero();
    }

    @Test
    void aRoutePolicyWrappedInFilterConfigAndTypedStructRefinesTheVirtualHostOne() throws Exception {
        HttpResponse<String> r = send("OPTIONS", "/wrapped/x", "Origin", APP, "Access-Control-Request-Method", "GET");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("access-control-max-age")).hasValue("7");
        assertThat(r.headers().firstValue("access-control-allow-methods")).hasValue("GET, PUT");
        assertThat(r.headers().firstValue("access-control-allow-origin")).hasValue(APP);
        assertThat(originSaw("OPTIONS /wrapped/x")).isZero();
    }

    @Test
    void aPreflightFromADisallowedOriginIsForwardedToTheOrigin() throws Exception {
        HttpResponse<String> r = send("OPTIONS", "/api/forwarded", "Origin", EVIL,
                "Access-Control-Request-Method", "PUT");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("o OPTIONS /api/forwarded");
        assertThat(r.headers().firstValue("x-origin")).hasValue("o");
        assertThat(corsHeaders(r.headers().map())).isEmpty();
        assertThat(originSaw("OPTIONS /api/forwarded")).isEqualTo(1);
    }

    @Test
    void withForwardNotMatchingPreflightsFalseADisallowedPreflightIsAnsweredWithoutAllowOrigin() throws Exception {
        CurlResponse r = curl("OPTIONS", "/strict/x", "Origin: " + EVIL, "Access-Control-Request-Method: PUT");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).doesNotContainKeys("access-control-allow-origin", "access-control-expose-headers",
                "x-origin");
        // the other fields still come from the virtual host's policy (Envoy sends allow-credentials here too)
        assertThat(r.headers()).containsEntry("access-control-allow-methods", "GET, PUT")
                .containsEntry("access-control-allow-credentials", "true")
                .containsEntry("access-control-max-age", "600");
        assertThat(originSaw("OPTIONS /strict/x")).isZero();
        // an allowed origin on the same route is answered as usual
        CurlResponse ok = curl("OPTIONS", "/strict/y", "Origin: https://A.Trusted.Example",
                "Access-Control-Request-Method: GET");
        assertThat(ok.headers()).containsEntry("access-control-allow-origin", "https://A.Trusted.Example");
    }

    @Test
    void anActualRequestFromAnAllowedOriginGetsAllowOriginCredentialsAndExposeHeaders() throws Exception {
        HttpResponse<String> r = send("GET", "/api/data", "Origin", APP);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("o GET /api/data");
        assertThat(r.headers().allValues("access-control-allow-origin")).containsExactly(APP);
        assertThat(r.headers().firstValue("access-control-allow-credentials")).hasValue("true");
        assertThat(r.headers().firstValue("access-control-expose-headers")).hasValue("x-trace");
        assertThat(r.headers().firstValue("access-control-allow-methods")).isEmpty();
        // curl sees the same on a PUT
        CurlResponse c = curl("PUT", "/api/data", "Origin: https://x.trusted.example");
        assertThat(c.status()).isEqualTo(200);
        assertThat(c.headers()).containsEntry("access-control-allow-origin", "https://x.trusted.example")
                .containsEntry("x-origin", "o");
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeaders() throws Exception {
        HttpResponse<String> r = send("GET", "/api/data", "Origin", EVIL);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("o GET /api/data");
        assertThat(corsHeaders(r.headers().map())).isEmpty();
        // and a request without Origin is a plain request
        HttpResponse<String> plain = send("GET", "/api/data");
        assertThat(corsHeaders(plain.headers().map())).isEmpty();
    }

    @Test
    void filterEnabledZeroOnARouteTurnsCorsOff() throws Exception {
        long valid = proxy.counter("http.ingress_http.cors.origin_valid");
        HttpResponse<String> r = send("OPTIONS", "/off/x", "Origin", APP, "Access-Control-Request-Method", "PUT");
        assertThat(r.body()).isEqualTo("o OPTIONS /off/x");
        assertThat(corsHeaders(r.headers().map())).isEmpty();
        HttpResponse<String> g = send("GET", "/off/y", "Origin", APP);
        assertThat(corsHeaders(g.headers().map())).isEmpty();
        assertThat(proxy.counter("http.ingress_http.cors.origin_valid")).isEqualTo(valid);
    }

    @Test
    void shadowModeCountsOriginsButChangesNothing() throws Exception {
        long valid = proxy.counter("http.ingress_http.cors.origin_valid");
        long invalid = proxy.counter("http.ingress_http.cors.origin_invalid");
        HttpResponse<String> pre = send("OPTIONS", "/shadow/x", "Origin", APP, "Access-Control-Request-Method", "PUT");
        assertThat(pre.body()).isEqualTo("o OPTIONS /shadow/x");
        assertThat(corsHeaders(pre.headers().map())).isEmpty();
        HttpResponse<String> bad = send("GET", "/shadow/y", "Origin", EVIL);
        assertThat(corsHeaders(bad.headers().map())).isEmpty();
        assertThat(proxy.counter("http.ingress_http.cors.origin_valid") - valid).isEqualTo(1);
        assertThat(proxy.counter("http.ingress_http.cors.origin_invalid") - invalid).isEqualTo(1);
    }

    @Test
    void theDeprecatedCorsFieldsOfAVirtualHostAndARouteWork() throws Exception {
        CurlResponse r = curl("OPTIONS", "/legacy", "Host: legacy.example", "Origin: https://site.example",
                "Access-Control-Request-Method: PATCH");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).containsEntry("access-control-allow-origin", "https://site.example")
                .containsEntry("access-control-allow-methods", "PATCH") // the route's, over the virtual host's
                .containsEntry("access-control-max-age", "60")
                .doesNotContainKey("access-control-allow-credentials");
        assertThat(originSaw("OPTIONS /legacy")).isZero();
    }

    @Test
    void adminStatsCountValidAndInvalidOrigins() throws Exception {
        Map<String, Long> before = corsStats();
        send("GET", "/api/stats", "Origin", APP);
        send("OPTIONS", "/api/stats", "Origin", APP, "Access-Control-Request-Method", "GET");
        send("GET", "/api/stats", "Origin", EVIL);
        send("GET", "/api/stats");
        Map<String, Long> after = corsStats();
        assertThat(after.get("http.ingress_http.cors.origin_valid") - before.get("http.ingress_http.cors.origin_valid"))
                .isEqualTo(2);
        assertThat(after.get("http.ingress_http.cors.origin_invalid")
                - before.get("http.ingress_http.cors.origin_invalid")).isEqualTo(1);
        HttpResponse<String> prometheus = proxy.admin("GET", "/stats/prometheus");
        assertThat(prometheus.body()).contains("envoy_http_cors_origin_valid{envoy_http_conn_manager_prefix=\"ingress_http\"} "
                + after.get("http.ingress_http.cors.origin_valid"));
    }

    /** The {@code cors.} counters as {@code /stats} prints them ({@code name: value} lines). */
    static Map<String, Long> corsStats() throws Exception {
        HttpResponse<String> r = proxy.admin("GET", "/stats?filter=cors");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Long> out = new LinkedHashMap<>();
        for (String line : r.body().split("\n")) {
            int c = line.indexOf(": ");
            if (c > 0) {
                out.put(line.substring(0, c), Long.parseLong(line.substring(c + 2).trim()));
            }
        }
        assertThat(out).containsKeys("http.ingress_http.cors.origin_valid", "http.ingress_http.cors.origin_invalid");
        return out;
    }
}
