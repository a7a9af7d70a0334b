package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP path end to end: real origins, the real proxy (built-in plugins loaded by PF4J from the
 * distribution), real clients.
 */
class HttpProxyIT {

    static TestOrigin a;
    static TestOrigin b;
    static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        a = new TestOrigin("a");
        b = new TestOrigin("b");
        String routes = """
                { name: local_route, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/timeout" }, route: { cluster: ab, timeout: 0.3s, prefix_rewrite: "/slow" } },
                  { match: { prefix: "/idle" }, route: { cluster: ab, idle_timeout: 0.3s, prefix_rewrite: "/slow" } },
                  { match: { prefix: "/retry" }, route: { cluster: ab, prefix_rewrite: "/flaky",
                      retry_policy: { retry_on: "5xx", num_retries: 2 } } },
                  { match: { prefix: "/noretry" }, route: { cluster: ab, prefix_rewrite: "/flaky" } },
                  { match: { prefix: "/dead" }, route: { cluster: dead } },
                  { match: { prefix: "/empty" }, route: { cluster: empty } },
                  { match: { prefix: "/direct" }, direct_response: { status: 418, body: { inline_string: "teapot" } } },
                  { match: { prefix: "/old" }, redirect: { path_redirect: "/new" } },
                  { match: { prefix: "/" }, route: { cluster: ab } } ] } ] }
                """;
        String clusters = "[ " + Proxy.staticCluster("ab", "lb_policy: ROUND_ROBIN", a.port(), b.port()) + ", "
                + Proxy.staticCluster("dead", "", closedPort()) + ", "
                + "{ name: empty, connect_timeout: 1s, type: STATIC, load_assignment: { cluster_name: empty } } ]";
        proxy = new Proxy(Proxy.httpConfig(routes, clusters));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        a.close();
        b.close();
    }

    static int closedPort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void roundRobinAlternatesBetweenTheTwoEndpoints() throws Exception {
        List<String> origins = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = proxy.get("listener_0", "/rr/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            origins.add(r.headers().firstValue("x-origin").orElseThrow());
        }
        Map<String, Long> counts = origins.stream().collect(Collectors.groupingBy(s -> s, Collectors.counting()));
        assertThat(counts).containsEntry("a", 5L).containsEntry("b", 5L);
        for (int i = 1; i < origins.size(); i++) {
            assertThat(origins.get(i)).as("request %d alternates", i).isNotEqualTo(origins.get(i - 1));
        }
    }

    @Test
    void forwardsWithEnvoyHeaders() throws Exception {
        HttpResponse<String> r = proxy.get("listener_0", "/echo/x");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-envoy-upstream-service-time")).hasValueSatisfying(
                v -> assertThat(Long.parseLong(v)).isBetween(0L, 5000L));
        assertThat(r.headers().firstValue("server")).hasValue("envoy");
        assertThat(r.headers().firstValue("date")).isPresent();
        assertThat(r.headers().firstValue("x-seen-x-request-id")).hasValueSatisfying(
                v -> assertThat(v).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
        assertThat(r.headers().firstValue("x-seen-x-forwarded-proto")).hasValue("http");
        assertThat(r.headers().firstValue("x-seen-x-envoy-expected-rq-timeout-ms")).hasValue("15000");
    }

    @Test
    void noRouteIs404WithEmptyBody() throws Exception {
        String routes = "{ virtual_hosts: [ { name: only, domains: [\"only.example\"], routes: [ { match: { prefix: \"/\" }, route: { cluster: ab } } ] } ] }";
        try (Proxy p = new Proxy(Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("ab", "", a.port()) + " ]"))) {
            HttpResponse<String> r = p.get("listener_0", "/anything");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).isEmpty();
            assertThat(p.counter("http.ingress_http.no_route")).isEqualTo(1);
            String viaHost = p.raw("listener_0", "GET /x HTTP/1.1\r\nHost: only.example:8080\r\nConnection: close\r\n\r\n", 5000);
            assertThat(viaHost).startsWith("HTTP/1.1 200").contains("x-origin: a");
        }
    }

    @Test
    void connectFailureIs503WithEnvoysBody() throws Exception {
        HttpResponse<String> r = proxy.get("listener_0", "/dead");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).startsWith("upstream connect error or disconnect/reset before headers. reset reason: ");
        assertThat(r.body()).contains("connection failure");
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(proxy.counter("cluster.dead.upstream_cx_connect_fail")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void clusterWithoutHostsIs503NoHealthyUpstream() throws Exception {
        HttpResponse<String> r = proxy.get("listener_0", "/empty");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("no healthy upstream");
    }

    @Test
    void routeTimeoutIs504() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = proxy.get("listener_0", "/timeout/3000");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).isEqualTo("upstream request timeout");
        assertThat(ms).isBetween(250L, 2500L);
        assertThat(proxy.counter("cluster.ab.upstream_rq_timeout")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void routeIdleTimeoutIs408StreamTimeout() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> r = proxy.get("listener_0", "/idle/3000");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(408);
        assertThat(r.body()).isEqualTo("stream timeout");
        assertThat(ms).isBetween(250L, 2500L);
        assertThat(proxy.counter("http.ingress_http.downstream_rq_idle_timeout")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void curlReusesItsConnectionAcrossRequests() throws Exception {
        String base = "http://127.0.0.1:" + proxy.port("listener_0");
        Process curl = new ProcessBuilder("curl", "-sS", "--http1.1", "-w", "%{http_code} %{num_connects}\\n",
                "-o", "/dev/null", base + "/curl/1", "-o", "/dev/null", base + "/curl/2")
                .redirectErrorStream(true).start();
        assertThat(curl.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        String out = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        // two 200s; the second request opened no new connection (keep-alive)
        assertThat(out).isEqualTo("200 1\n200 0\n");
    }

    @Test
    void retriesA503AndReturnsTheSuccess() throws Exception {
        long before = proxy.counter("cluster.ab.upstream_rq_retry");
        HttpResponse<String> r = proxy.get("listener_0", "/retry/k1/2");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok after 2 failures");
        assertThat(proxy.counter("cluster.ab.upstream_rq_retry") - before).isEqualTo(2);
        // without a retry policy the 503 goes to the client as is
        HttpResponse<String> nr = proxy.get("listener_0", "/noretry/k2/1");
        assertThat(nr.statusCode()).isEqualTo(503);
        assertThat(nr.body()).isEqualTo("failure 1");
    }

    @Test
    void xEnvoyMaxRetriesOverridesThePolicy() throws Exception {
        HttpResponse<String> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/noretry/k3/1"))
                .header("x-envoy-retry-on", "5xx").header("x-envoy-max-retries", "1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok after 1 failures");
    }

    @Test
    void directResponseAndRedirect() throws Exception {
        HttpResponse<String> d = proxy.get("listener_0", "/direct");
        assertThat(d.statusCode()).isEqualTo(418);
        assertThat(d.body()).isEqualTo("teapot");
        HttpResponse<String> r = proxy.get("listener_0", "/old");
        assertThat(r.statusCode()).isEqualTo(301);
        assertThat(r.headers().firstValue("location")).hasValueSatisfying(v -> assertThat(v).endsWith("/new"));
    }

    @Test
    void largeBodiesStreamBothWays() throws Exception {
        int mib = 32;
        byte[] chunk = TestOrigin.pattern(1 << 20);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < mib; i++) {
            md.update(chunk);
        }
        // chunked upload (no content-length): the proxy must stream it, not buffer 32 MiB
        HttpResponse<String> up = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/sha256"))
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(Collections.enumeration(
                        IntStream.range(0, mib).mapToObj(i -> (InputStream) new java.io.ByteArrayInputStream(chunk)).toList()))))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(up.body()).isEqualTo(HexFormat.of().formatHex(md.digest()));

        long n = (long) mib << 20;
        HttpResponse<InputStream> down = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/bytes/" + n))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(down.statusCode()).isEqualTo(200);
        long read = 0;
        boolean patternOk = true;
        try (InputStream in = down.body()) {
            byte[] buf = new byte[65536];
            for (int k; (k = in.read(buf)) > 0; ) {
                for (int j = 0; j < k; j++) {
                    patternOk &= buf[j] == (byte) (((read + j) % (1 << 16)) % 251);
                }
                read += k;
            }
        }
        assertThat(read).isEqualTo(n);
        assertThat(patternOk).as("bytes arrive unchanged and in order").isTrue();
    }

    @Test
    void keepAliveReusesDownstreamAndUpstreamConnections() throws Exception {
        String req = "GET /ka HTTP/1.1\r\nHost: x\r\n\r\n";
        long cxBefore = proxy.counter("cluster.ab.upstream_cx_total");
        String out = proxy.raw("listener_0", req.repeat(6) , 3000);
        assertThat(out.split("HTTP/1.1 200 OK", -1)).hasSize(7);
        assertThat(out).endsWith("<TIMEOUT>");  // still open: keep-alive
        assertThat(proxy.counter("cluster.ab.upstream_cx_total") - cxBefore).isLessThanOrEqualTo(2);
    }

    @Test
    void aClientCloseReleasesItsConnection() throws Exception {
        String routes = "{ virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ { match: { prefix: \"/\" }, route: { cluster: ab } } ] } ] }";
        try (Proxy p = new Proxy(Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("ab", "", a.port()) + " ]"))) {
            String active = "listener.127.0.0.1_" + p.port("listener_0") + ".downstream_cx_active";
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", p.port("listener_0"))) {
                s.getOutputStream().write("GET /x HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] buf = new byte[4096];
                int n = s.getInputStream().read(buf);
                assertThat(new String(buf, 0, n, java.nio.charset.StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
                assertThat(p.server.stats().gauge(active)).isEqualTo(1);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (p.server.stats().gauge(active) != 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(p.server.stats().gauge(active)).as("connection closed after the client's FIN").isZero();
        }
    }

    @Test
    void statusLinesUseEnvoysReasonPhrases() throws Exception {
        String out = proxy.raw("listener_0", "GET /status/413 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 413 Payload Too Large\r\n").endsWith("status 413<EOF>");
    }

    @Test
    void headRequestHasNoBody() throws Exception {
        String out = proxy.raw("listener_0", "HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 200");
        assertThat(out).endsWith("\r\n\r\n<EOF>");
    }

    @Test
    void expectContinueIsAnsweredBeforeTheBody() throws Exception {
        String out = proxy.raw("listener_0", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                + "Expect: 100-continue\r\nConnection: close\r\n\r\nhello", 5000);
        assertThat(out).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200");
        assertThat(out).endsWith("hello<EOF>");
    }

    @Test
    void malformedRequestIs400AndClosesTheConnection() throws Exception {
        String out = proxy.raw("listener_0", "THIS IS NOT HTTP\r\n\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 400").endsWith("<EOF>");
    }

    @Test
    void oversizedHeadersAre431() throws Exception {
        String big = "x-big: " + "a".repeat(70 * 1024) + "\r\n";
        String out = proxy.raw("listener_0", "GET / HTTP/1.1\r\nHost: x\r\n" + big + "\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 431");
    }

    @Test
    void chunkedRequestBodyReachesTheOrigin() throws Exception {
        String out = proxy.raw("listener_0", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 200").endsWith("hello world<EOF>");
    }

    @Test
    void statsAndAdminReflectTraffic() throws Exception {
        proxy.get("listener_0", "/stats-probe");
        HttpResponse<String> stats = proxy.admin("GET", "/stats?filter=^http\\.ingress_http\\.");
        assertThat(stats.statusCode()).isEqualTo(200);
        assertThat(stats.body()).contains("http.ingress_http.downstream_rq_total: ")
                .contains("http.ingress_http.downstream_rq_2xx: ").doesNotContain("cluster.ab.");
        HttpResponse<String> prom = proxy.admin("GET", "/stats/prometheus");
        assertThat(prom.body()).containsPattern("envoy_cluster_upstream_rq_total\\{envoy_cluster_name=\"ab\"\\} [1-9]");
        assertThat(prom.body()).containsPattern(
                "envoy_cluster_upstream_rq\\{envoy_cluster_name=\"ab\",envoy_response_code=\"200\"\\} [1-9]");
        HttpResponse<String> clusters = proxy.admin("GET", "/clusters");
        assertThat(clusters.body()).contains("ab::default_priority::max_connections::1024")
                .contains("ab::127.0.0.1:" + a.port() + "::health_flags::healthy");
        assertThat(proxy.admin("GET", "/ready").body()).isEqualTo("LIVE\n");
        assertThat(proxy.admin("GET", "/config_dump").body())
                .contains("type.googleapis.com/envoy.admin.v3.BootstrapConfigDump")
                .contains("type.googleapis.com/envoy.admin.v3.ClustersConfigDump")
                .contains("type.googleapis.com/envoy.admin.v3.ListenersConfigDump")
                .contains("type.googleapis.com/envoy.admin.v3.RoutesConfigDump");
        assertThat(proxy.admin("GET", "/plugins").body()).contains("legate-router")
                .contains("envoy.filters.http.router").contains("envoy.filters.network.tcp_proxy");
        assertThat(proxy.admin("GET", "/quitquitquit").statusCode()).isEqualTo(405);
        assertThat(proxy.admin("GET", "/listeners").body()).contains("listener_0::127.0.0.1:" + proxy.port("listener_0"));
    }
}
