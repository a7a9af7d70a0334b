package dev.legate.filters.network.httpconnectionmanager.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.TextFormat;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.filters.network.httpconnectionmanager.TestContexts;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import dev.legate.testkit.TestStreamInfo;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Route table tier: virtual hosts, matches, actions, rewrites, redirects and header rules. */
class RouteTableTest {

    static RouteTable table(String text) {
        return table(text, TestContexts.create("a", "b", "c", "backend"));
    }

    static RouteTable table(String text, TestFactoryContext ctx) {
        try {
            return RouteTable.compile(TextFormat.parse(text, RouteConfiguration.class), "route_config", ctx);
        } catch (TextFormat.ParseException e) {
            throw new AssertionError(e);
        }
    }

    static String vh(String name, String domains, String routes) {
        StringBuilder b = new StringBuilder("virtual_hosts { name: '" + name + "' ");
        for (String d : domains.split(",")) {
            b.append("domains: '").append(d).append("' ");
        }
        return b.append(routes).append(" } ").toString();
    }

    static String catchAll(String cluster) {
        return "routes { match { prefix: '/' } route { cluster: '" + cluster + "' } }";
    }

    static String vhostOf(RouteTable t, String authority) {
        Route r = t.route(TestHeaderMap.request(authority, "/"));
        return r == null ? null : r.virtualHost().getName();
    }

    static String clusterOf(RouteTable t, HeaderMap headers) {
        Route r = t.route(headers);
        return r == null ? null : r.routeEntry().clusterName();
    }

    @Test
    void virtualHostPrecedenceFollowsEnvoy() {
        RouteTable t = table(vh("exact", "foo.com", catchAll("a"))
                + vh("suffix", "*.foo.com", catchAll("a"))
                + vh("longer-suffix", "*.bar.foo.com", catchAll("a"))
                + vh("dash-suffix", "*-bar.foo.com", catchAll("a"))
                + vh("prefix", "foo.*", catchAll("a"))
                + vh("longer-prefix", "foo.bar.*", catchAll("a"))
                + vh("with-port", "api.com:8080", catchAll("a"))
                + vh("default", "*", catchAll("a")));

        assertThat(vhostOf(t, "foo.com")).isEqualTo("exact");
        assertThat(vhostOf(t, "FOO.com:80")).isEqualTo("exact");
        assertThat(vhostOf(t, "x.foo.com")).isEqualTo("suffix");
        assertThat(vhostOf(t, "x.bar.foo.com")).isEqualTo("longer-suffix");
        assertThat(vhostOf(t, "x-bar.foo.com")).isEqualTo("dash-suffix");
        assertThat(vhostOf(t, "foo.org")).isEqualTo("prefix");
        assertThat(vhostOf(t, "foo.bar.org:443")).isEqualTo("longer-prefix");
        assertThat(vhostOf(t, "api.com:8080")).isEqualTo("with-port");
        assertThat(vhostOf(t, "api.com:9090")).isEqualTo("default");
        assertThat(vhostOf(t, "other.net")).isEqualTo("default");
        // A wildcard never matches an empty part.
        assertThat(vhostOf(t, ".foo.com")).isEqualTo("default");
        assertThat(vhostOf(t, "foo.")).isEqualTo("default");
    }

    @Test
    void withoutDefaultAnUnknownHostHasNoRoute() {
        RouteTable t = table(vh("only", "foo.com", catchAll("a")));
        assertThat(t.route(TestHeaderMap.request("bar.com", "/"))).isNull();
        assertThat(vhostOf(t, "foo.com:1234")).isEqualTo("only");
        assertThat(vhostOf(t, "[::1]:80")).isNull();
    }

    @Test
    void onlyADefaultVirtualHostServesEveryHost() {
        RouteTable t = table(vh("default", "*", catchAll("a")));
        assertThat(t.route(TestHeaderMap.of(":method", "GET", ":path", "/"))).isNotNull();
    }

    @Test
    void routesMatchInOrderByPrefixPathRegexAndSeparatedPrefix() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { path: '/exact' } route { cluster: 'a' } } "
                + "routes { match { safe_regex { regex: '/re/[0-9]+' } } route { cluster: 'b' } } "
                + "routes { match { path_separated_prefix: '/api/dev' } route { cluster: 'c' } } "
                + "routes { match { prefix: '/p' case_sensitive { value: false } } route { cluster: 'a' } } "
                + "routes { match { prefix: '/' } route { cluster: 'backend' } }"));

        assertThat(clusterOf(t, TestHeaderMap.request("h", "/exact"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/exact?x=1"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/exact/more"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/re/123"))).isEqualTo("b");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/re/123?q"))).isEqualTo("b");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/re/123x"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/api/dev"))).isEqualTo("c");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/api/dev/v1"))).isEqualTo("c");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/api/dev?x=1"))).isEqualTo("c");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/api/developer"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/PATH"))).isEqualTo("a");
    }

    @Test
    void caseSensitiveByDefault() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/abc' } route { cluster: 'a' } } "
                + "routes { match { path: '/X' case_sensitive { value: false } } route { cluster: 'b' } }"));
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/ABC"))).isNull();
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/abcd"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x"))).isEqualTo("b");
    }

    @Test
    void headerMatchers() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/' headers { name: 'x-exact' string_match { exact: 'Yes' ignore_case: true } } } route { cluster: 'a' } } "
                + "routes { match { prefix: '/' headers { name: 'x-range' range_match { start: 10 end: 20 } } } route { cluster: 'b' } } "
                + "routes { match { prefix: '/' headers { name: 'x-present' present_match: true } "
                + "headers { name: 'x-not' present_match: true invert_match: true } } route { cluster: 'c' } } "
                + "routes { match { prefix: '/' headers { name: ':method' exact_match: 'POST' } } route { cluster: 'a' } } "
                + "routes { match { prefix: '/' headers { name: 'x-empty' treat_missing_header_as_empty: true "
                + "string_match { safe_regex { regex: 'x*' } } } } route { cluster: 'backend' } }"));

        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-exact", "yes"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-range", "15"))).isEqualTo("b");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-range", "20"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-range", "abc"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-present", ""))).isEqualTo("c");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-present", "1").add("x-not", "1")))
                .isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.of(":method", "POST", ":path", "/", ":authority", "h")))
                .isEqualTo("a");
        // treat_missing_header_as_empty: the absent header is "", which x* matches.
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/"))).isEqualTo("backend");
        // Several values are matched joined with ",".
        RouteTable joined = table(vh("v", "*", "routes { match { prefix: '/' headers { name: 'x-m' "
                + "string_match { exact: '1,2' } } } route { cluster: 'a' } }"));
        assertThat(clusterOf(joined, TestHeaderMap.request("h", "/").add("x-m", "1").add("x-m", "2"))).isEqualTo("a");
        assertThat(clusterOf(joined, TestHeaderMap.request("h", "/").add("x-m", "1"))).isNull();
    }

    @Test
    void invertedMatcherStillNeedsTheHeader() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' headers { name: 'x-a' "
                + "string_match { exact: 'no' } invert_match: true } } route { cluster: 'a' } }"));
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-a", "yes"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/").add("x-a", "no"))).isNull();
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/"))).isNull();
    }

    @Test
    void queryParameterMatchers() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/' query_parameters { name: 'debug' present_match: true } } route { cluster: 'a' } } "
                + "routes { match { prefix: '/' query_parameters { name: 'v' string_match { prefix: '2' } } } route { cluster: 'b' } } "
                + "routes { match { prefix: '/' } route { cluster: 'backend' } }"));
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x?debug"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x?a=1&debug=0"))).isEqualTo("a");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x?v=2.1"))).isEqualTo("b");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x?v=1&v=2"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x?debugx=1"))).isEqualTo("backend");
        assertThat(clusterOf(t, TestHeaderMap.request("h", "/x"))).isEqualTo("backend");
    }

    @Test
    void weightedClustersFollowTheWeights() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' } route { weighted_clusters { "
                + "clusters { name: 'a' weight { value: 80 } } clusters { name: 'b' weight { value: 20 } } } } }"));
        int a = 0;
        int b = 0;
        for (int i = 0; i < 1000; i++) {
            String c = clusterOf(t, TestHeaderMap.request("h", "/"));
            if ("a".equals(c)) {
                a++;
            } else if ("b".equals(c)) {
                b++;
            }
        }
        assertThat(a + b).isEqualTo(1000);
        // 800 expected; the bounds are > 8 standard deviations wide (sd ≈ 12.6).
        assertThat(a).isBetween(700, 900);
    }

    @Test
    void weightedClusterHeaderAndPerClusterHeaders() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' } route { weighted_clusters { "
                + "header_name: 'x-pick' "
                + "clusters { name: 'a' weight { value: 1 } request_headers_to_add { header { key: 'x-c' value: 'a' } } } "
                + "clusters { name: 'b' weight { value: 1 } response_headers_to_add { header { key: 'x-c' value: 'b' } } "
                + "host_rewrite_literal: 'b.internal' } } } }"));
        HeaderMap req = TestHeaderMap.request("h", "/").add("x-pick", "0");
        Route r = t.route(req);
        assertThat(r.routeEntry().clusterName()).isEqualTo("a");
        r.routeEntry().finalizeRequestHeaders(req, TestStreamInfo.from("10.0.0.1"));
        assertThat(req.get("x-c")).isEqualTo("a");

        HeaderMap req2 = TestHeaderMap.request("h", "/").add("x-pick", "3");
        Route r2 = t.route(req2);
        assertThat(r2.routeEntry().clusterName()).isEqualTo("b");
        r2.routeEntry().finalizeRequestHeaders(req2, TestStreamInfo.from("10.0.0.1"));
        assertThat(req2.authority()).isEqualTo("b.internal");
        HeaderMap resp = TestHeaderMap.of(":status", "200");
        r2.routeEntry().finalizeResponseHeaders(resp, TestStreamInfo.from("10.0.0.1"));
        assertThat(resp.get("x-c")).isEqualTo("b");
    }

    @Test
    void clusterHeaderIsReadPerRequest() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' } route { cluster_header: 'X-Cluster' "
                + "cluster_not_found_response_code: NOT_FOUND } }"));
        Route with = t.route(TestHeaderMap.request("h", "/").add("x-cluster", "b"));
        Route without = t.route(TestHeaderMap.request("h", "/"));
        assertThat(with.routeEntry().clusterName()).isEqualTo("b");
        assertThat(without.routeEntry().clusterName()).isNull();
        assertThat(without.routeEntry().clusterNotFoundResponseCode()).isEqualTo(404);
    }

    @Test
    void actionDefaultsAndValues() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/t' } route { cluster: 'a' timeout { seconds: 0 } idle_timeout { seconds: 3 } "
                + "auto_host_rewrite { value: true } cluster_not_found_response_code: INTERNAL_SERVER_ERROR } } "
                + "routes { match { prefix: '/' } route { cluster: 'a' } }"));
        RouteEntry t1 = t.route(TestHeaderMap.request("h", "/t")).routeEntry();
        assertThat(t1.timeoutMillis()).isZero();
        assertThat(t1.idleTimeoutMillis()).isEqualTo(3000);
        assertThat(t1.autoHostRewrite()).isTrue();
        assertThat(t1.clusterNotFoundResponseCode()).isEqualTo(500);
        RouteEntry d = t.route(TestHeaderMap.request("h", "/")).routeEntry();
        assertThat(d.timeoutMillis()).isEqualTo(15_000);
        assertThat(d.idleTimeoutMillis()).isEqualTo(-1);
        assertThat(d.autoHostRewrite()).isFalse();
        assertThat(d.clusterNotFoundResponseCode()).isEqualTo(503);
        assertThat(d.retryPolicy()).isEqualTo(RetryPolicy.NONE);
        // A plain cluster route is shared: no allocation per request.
        assertThat(t.route(TestHeaderMap.request("h", "/"))).isSameAs(t.route(TestHeaderMap.request("h", "/x")));
    }

    @Test
    void retryPolicyAtRouteFallsBackToVirtualHost() {
        RouteTable t = table("virtual_hosts { name: 'v' domains: '*' "
                + "retry_policy { retry_on: '5xx' } "
                + "routes { match { prefix: '/r' } route { cluster: 'a' retry_policy { retry_on: 'connect-failure, "
                + "retriable-status-codes' num_retries { value: 3 } per_try_timeout { seconds: 2 } "
                + "retriable_status_codes: 409 retry_back_off { base_interval { nanos: 100000000 } } } } } "
                + "routes { match { prefix: '/' } route { cluster: 'a' } } }");
        RetryPolicy r = t.route(TestHeaderMap.request("h", "/r")).routeEntry().retryPolicy();
        assertThat(r.retryOn()).containsExactlyInAnyOrder("connect-failure", "retriable-status-codes");
        assertThat(r.numRetries()).isEqualTo(3);
        assertThat(r.perTryTimeoutMillis()).isEqualTo(2000);
        assertThat(r.retriableStatusCodes()).containsExactly(409);
        assertThat(r.baseIntervalMillis()).isEqualTo(100);
        assertThat(r.maxIntervalMillis()).isEqualTo(1000);
        RetryPolicy v = t.route(TestHeaderMap.request("h", "/")).routeEntry().retryPolicy();
        assertThat(v).isEqualTo(new RetryPolicy(Set.of("5xx"), 1, 0, Set.of(), 25, 250));
    }

    @Test
    void prefixRewriteKeepsTheOriginalPath() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/api/' } route { cluster: 'a' prefix_rewrite: '/' host_rewrite_literal: 'up' } } "
                + "routes { match { path: '/old' } route { cluster: 'a' prefix_rewrite: '/new' } } "
                + "routes { match { prefix: '/CI' case_sensitive { value: false } } route { cluster: 'a' prefix_rewrite: '/ci' } }"));
        HeaderMap h = TestHeaderMap.request("h", "/api/v1/x?q=1");
        t.route(h).routeEntry().finalizeRequestHeaders(h, TestStreamInfo.from("10.0.0.1"));
        assertThat(h.path()).isEqualTo("/v1/x?q=1");
        assertThat(h.get("x-envoy-original-path")).isEqualTo("/api/v1/x?q=1");
        assertThat(h.authority()).isEqualTo("up");

        HeaderMap p = TestHeaderMap.request("h", "/old?z");
        t.route(p).routeEntry().finalizeRequestHeaders(p, TestStreamInfo.from("10.0.0.1"));
        assertThat(p.path()).isEqualTo("/new?z");

        HeaderMap c = TestHeaderMap.request("h", "/ci/rest");
        t.route(c).routeEntry().finalizeRequestHeaders(c, TestStreamInfo.from("10.0.0.1"));
        assertThat(c.path()).isEqualTo("/ci/rest");
    }

    @Test
    void regexRewriteUsesCaptureGroupsAndKeepsTheQuery() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/service' } route { cluster: 'a' regex_rewrite { pattern { "
                + "regex: '^/service/([^/]+)(/.*)$' } substitution: '\\\\2/instance/\\\\1' } } } "
                + "routes { match { prefix: '/' } route { cluster: 'a' regex_rewrite { pattern { regex: 'one' } "
                + "substitution: 'two' } } }"));
        HeaderMap h = TestHeaderMap.request("h", "/service/foo/v1/api?x=one");
        t.route(h).routeEntry().finalizeRequestHeaders(h, TestStreamInfo.from("10.0.0.1"));
        assertThat(h.path()).isEqualTo("/v1/api/instance/foo?x=one");
        assertThat(h.get("x-envoy-original-path")).isEqualTo("/service/foo/v1/api?x=one");

        HeaderMap all = TestHeaderMap.request("h", "/one/one?one");
        t.route(all).routeEntry().finalizeRequestHeaders(all, TestStreamInfo.from("10.0.0.1"));
        assertThat(all.path()).isEqualTo("/two/two?one");
    }

    @Test
    void redirectLocations() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/https' } redirect { https_redirect: true } } "
                + "routes { match { prefix: '/host' } redirect { host_redirect: 'new.com' port_redirect: 8443 "
                + "response_code: TEMPORARY_REDIRECT } } "
                + "routes { match { prefix: '/path' } redirect { path_redirect: '/elsewhere' } } "
                + "routes { match { prefix: '/pq' } redirect { path_redirect: '/e?a=b' } } "
                + "routes { match { prefix: '/strip' } redirect { strip_query: true scheme_redirect: 'https' } } "
                + "routes { match { prefix: '/old/' } redirect { prefix_rewrite: '/new/' response_code: FOUND } }"));

        assertThat(location(t, "example.com:80", "/https/x?y=1", "http"))
                .isEqualTo("https://example.com/https/x?y=1");
        assertThat(location(t, "example.com:8080", "/https", "http")).isEqualTo("https://example.com:8080/https");
        assertThat(location(t, "example.com:80", "/host/a", "http")).isEqualTo("http://new.com:8443/host/a");
        assertThat(code(t, "/host")).isEqualTo(307);
        assertThat(location(t, "example.com", "/path/x?q=1", "http")).isEqualTo("http://example.com/elsewhere?q=1");
        assertThat(location(t, "example.com", "/pq?q=1", "http")).isEqualTo("http://example.com/e?a=b");
        assertThat(location(t, "example.com", "/strip?q=1", "http")).isEqualTo("https://example.com/strip");
        assertThat(location(t, "example.com", "/old/a/b?c", "http")).isEqualTo("http://example.com/new/a/b?c");
        assertThat(code(t, "/https")).isEqualTo(301);
        assertThat(code(t, "/old/")).isEqualTo(302);
        assertThat(t.route(TestHeaderMap.request("h", "/https")).routeEntry()).isNull();
        assertThat(t.route(TestHeaderMap.request("h", "/https")).directResponseEntry().responseBody()).isEmpty();
    }

    private static String location(RouteTable t, String authority, String path, String xfp) {
        HeaderMap h = TestHeaderMap.of(":method", "GET", ":scheme", "http", ":path", path, ":authority", authority,
                "x-forwarded-proto", xfp);
        return t.route(h).directResponseEntry().newLocation(h);
    }

    private static int code(RouteTable t, String path) {
        return t.route(TestHeaderMap.request("h", path)).directResponseEntry().responseCode();
    }

    @Test
    void directResponses(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("body.txt"), "from a file");
        TestFactoryContext ctx = TestContexts.create("a").configDirectory(dir);
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { path: '/' } direct_response { status: 200 body { inline_string: 'welcome' } } } "
                + "routes { match { path: '/file' } direct_response { status: 503 body { filename: 'body.txt' } } } "
                + "routes { match { path: '/moved' } direct_response { status: 301 } } "
                + "routes { match { path: '/none' } direct_response { status: 204 } }"), ctx);
        DirectResponseEntry welcome = t.route(TestHeaderMap.request("h", "/")).directResponseEntry();
        assertThat(welcome.responseCode()).isEqualTo(200);
        assertThat(welcome.responseBody()).isEqualTo("welcome");
        assertThat(welcome.newLocation(TestHeaderMap.request("h", "/"))).isNull();
        assertThat(t.route(TestHeaderMap.request("h", "/file")).directResponseEntry().responseBody())
                .isEqualTo("from a file");
        HeaderMap moved = TestHeaderMap.of(":scheme", "http", ":path", "/moved", ":authority", "h");
        assertThat(t.route(moved).directResponseEntry().newLocation(moved)).isEqualTo("http://h/moved");
        assertThat(t.route(TestHeaderMap.request("h", "/none")).directResponseEntry().responseBody()).isEmpty();
    }

    @Test
    void headerRulesApplyLeastSpecificLastByDefault() {
        String levels = "request_headers_to_add { header { key: 'x-level' value: 'config' } append_action: OVERWRITE_IF_EXISTS_OR_ADD } "
                + "response_headers_to_add { header { key: 'x-level' value: 'config' } append_action: OVERWRITE_IF_EXISTS_OR_ADD } "
                + "virtual_hosts { name: 'v' domains: '*' "
                + "request_headers_to_add { header { key: 'x-level' value: 'vhost' } append_action: OVERWRITE_IF_EXISTS_OR_ADD } "
                + "routes { match { prefix: '/' } route { cluster: 'a' } "
                + "request_headers_to_add { header { key: 'x-level' value: 'route' } append_action: OVERWRITE_IF_EXISTS_OR_ADD } "
                + "request_headers_to_add { header { key: 'x-trace' value: 'route' } } "
                + "response_headers_to_add { header { key: 'x-level' value: 'route' } append_action: OVERWRITE_IF_EXISTS_OR_ADD } } } ";
        RouteTable envoyDefault = table(levels);
        HeaderMap h = TestHeaderMap.request("h", "/");
        envoyDefault.route(h).routeEntry().finalizeRequestHeaders(h, TestStreamInfo.from("10.0.0.1"));
        assertThat(h.getAll("x-level")).containsExactly("config");
        HeaderMap resp = TestHeaderMap.of(":status", "200");
        envoyDefault.route(h).routeEntry().finalizeResponseHeaders(resp, TestStreamInfo.from("10.0.0.1"));
        assertThat(resp.getAll("x-level")).containsExactly("config");

        RouteTable mostSpecific = table("most_specific_header_mutations_wins: true " + levels);
        HeaderMap h2 = TestHeaderMap.request("h", "/");
        mostSpecific.route(h2).routeEntry().finalizeRequestHeaders(h2, TestStreamInfo.from("10.0.0.1"));
        assertThat(h2.getAll("x-level")).containsExactly("route");
    }

    @Test
    void appendActionsRemovalsAndVariables() {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' } route { cluster: 'a' } "
                + "request_headers_to_remove: 'x-secret' "
                + "request_headers_to_add { header { key: 'x-app' value: 'new' } } "
                + "request_headers_to_add { header { key: 'x-absent' value: 'new' } append_action: ADD_IF_ABSENT } "
                + "request_headers_to_add { header { key: 'x-there' value: 'new' } append_action: ADD_IF_ABSENT } "
                + "request_headers_to_add { header { key: 'x-over' value: 'new' } append_action: OVERWRITE_IF_EXISTS } "
                + "request_headers_to_add { header { key: 'x-missing' value: 'new' } append_action: OVERWRITE_IF_EXISTS } "
                + "request_headers_to_add { header { key: 'x-legacy' value: 'new' } append { value: false } } "
                + "request_headers_to_add { header { key: 'x-client' value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                + "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %PROTOCOL% 100%% %REQ(x-app)%' } } "
                + "request_headers_to_add { header { key: 'x-empty' value: '%UPSTREAM_HOST%' } } "
                + "request_headers_to_add { header { key: 'x-kept' value: '%UPSTREAM_HOST%' } keep_empty_value: true } }"));
        HeaderMap h = TestHeaderMap.request("h", "/").add("x-secret", "s").add("x-app", "old").add("x-there", "old")
                .add("x-over", "old").add("x-legacy", "old");
        t.route(h).routeEntry().finalizeRequestHeaders(h, TestStreamInfo.from("10.1.2.3"));

        assertThat(h.contains("x-secret")).isFalse();
        assertThat(h.getAll("x-app")).containsExactly("old", "new");
        assertThat(h.getAll("x-absent")).containsExactly("new");
        assertThat(h.getAll("x-there")).containsExactly("old");
        assertThat(h.getAll("x-over")).containsExactly("new");
        assertThat(h.contains("x-missing")).isFalse();
        assertThat(h.getAll("x-legacy")).containsExactly("new");
        assertThat(h.get("x-client")).isEqualTo("10.1.2.3 10.1.2.3:40000 127.0.0.1:10000 HTTP/1.1 100% old");
        assertThat(h.contains("x-empty")).isFalse();
        assertThat(h.getAll("x-kept")).containsExactly("");
    }

    @Test
    void directResponseAndRedirectGetResponseHeaderRules() {
        RouteTable t = table("response_headers_to_add { header { key: 'x-config' value: '1' } } "
                + vh("v", "*", "response_headers_to_add { header { key: 'x-vhost' value: '1' } } "
                + "routes { match { prefix: '/' } redirect { path_redirect: '/x' } "
                + "response_headers_to_add { header { key: 'x-route' value: '1' } } }"));
        HeaderMap resp = TestHeaderMap.of(":status", "301");
        t.route(TestHeaderMap.request("h", "/")).directResponseEntry()
                .finalizeResponseHeaders(resp, TestStreamInfo.from("10.0.0.1"));
        assertThat(resp.contains("x-config")).isTrue();
        assertThat(resp.contains("x-vhost")).isTrue();
        assertThat(resp.contains("x-route")).isTrue();
    }

    @Test
    void perFilterConfigIsMostSpecificFirst() {
        Any config = Any.newBuilder().setTypeUrl("type.googleapis.com/t.Config").build();
        Any vhost = Any.newBuilder().setTypeUrl("type.googleapis.com/t.Vhost").build();
        Any route = Any.newBuilder().setTypeUrl("type.googleapis.com/t.Route").build();
        String text = "typed_per_filter_config { key: 'legate.test.header' value { type_url: '" + config.getTypeUrl() + "' } } "
                + "virtual_hosts { name: 'v' domains: '*' "
                + "typed_per_filter_config { key: 'legate.test.header' value { type_url: '" + vhost.getTypeUrl() + "' } } "
                + "routes { match { prefix: '/r' } route { cluster: 'a' } "
                + "typed_per_filter_config { key: 'legate.test.header' value { type_url: '" + route.getTypeUrl() + "' } } } "
                + "routes { match { prefix: '/' } route { cluster: 'a' } } } "
                + "virtual_hosts { name: 'w' domains: 'w' routes { match { prefix: '/' } route { cluster: 'a' } } }";
        TestFactoryContext ctx = TestContexts.create("a");
        RouteTable t = table(text, ctx);
        assertThat(t.route(TestHeaderMap.request("h", "/r")).perFilterConfig("legate.test.header")).isEqualTo(route);
        assertThat(t.route(TestHeaderMap.request("h", "/")).perFilterConfig("legate.test.header")).isEqualTo(vhost);
        assertThat(t.route(TestHeaderMap.request("w", "/")).perFilterConfig("legate.test.header")).isEqualTo(config);
        assertThat(t.route(TestHeaderMap.request("w", "/")).perFilterConfig("other")).isNull();
        assertThat(t.route(TestHeaderMap.request("h", "/r")).perFilterConfigs("legate.test.header"))
                .containsExactly(route, vhost, config);
        assertThat(t.route(TestHeaderMap.request("h", "/")).perFilterConfigs("legate.test.header"))
                .containsExactly(vhost, config);
        assertThat(t.route(TestHeaderMap.request("w", "/")).perFilterConfigs("other")).isEmpty();
        assertThat(ctx.perFilterConfigRequests()).extracting(TestFactoryContext.PerFilterConfigRequest::path).contains(
                "route_config.virtual_hosts[0].routes[0].typed_per_filter_config[\"legate.test.header\"]");
    }

    @Test
    void requireTlsRedirectsPlainRequests() {
        RouteTable t = table("virtual_hosts { name: 'v' domains: '*' require_tls: ALL "
                + "routes { match { prefix: '/' } route { cluster: 'a' } } }");
        HeaderMap plain = TestHeaderMap.of(":scheme", "http", ":path", "/x", ":authority", "h",
                "x-forwarded-proto", "http");
        Route r = t.route(plain);
        assertThat(r.directResponseEntry().responseCode()).isEqualTo(301);
        assertThat(r.directResponseEntry().newLocation(plain)).isEqualTo("https://h/x");
        HeaderMap tls = TestHeaderMap.of(":scheme", "https", ":path", "/x", ":authority", "h",
                "x-forwarded-proto", "https");
        assertThat(t.route(tls).routeEntry().clusterName()).isEqualTo("a");
    }

    @Test
    void stripPortUnderstandsIpv6() {
        assertThat(RouteTable.stripPort("a.com:80")).isEqualTo("a.com");
        assertThat(RouteTable.stripPort("[::1]:80")).isEqualTo("[::1]");
        assertThat(RouteTable.stripPort("[::1]")).isEqualTo("[::1]");
        assertThat(RouteTable.stripPort("::1")).isEqualTo("::1");
        assertThat(RouteTable.stripPort("a.com")).isEqualTo("a.com");
    }
}
