package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 clients (curl, the JDK client, a raw socket) → the real distribution → an h2c origin: clusters that
 * speak HTTP/2 upstream, chosen by {@code typed_extension_protocol_options} or the legacy
 * {@code http2_protocol_options}.
 */
class Http2UpstreamIT {

    static H2cOrigin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() {
        origin = new H2cOrigin();
        String typed = "typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "
                + "\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
                + "explicit_http_config: { http2_protocol_options: {} } } }";
        String routes = """
                { name: local_route, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/legacy" }, route: { cluster: h2legacy } },
                  { match: { prefix: "/limited" }, route: { cluster: h2limited, prefix_rewrite: "/hold" } },
                  { match: { prefix: "/refuse-once" }, route: { cluster: h2,
                      retry_policy: { retry_on: "reset", num_retries: 1 } } },
                  { match: { prefix: "/" }, route: { cluster: h2 } } ] } ] }
                """;
        String clusters = "[ " + Proxy.staticCluster("h2", typed, origin.port()) + ", "
                + Proxy.staticCluster("h2legacy", "http2_protocol_options: {}", origin.port()) + ", "
                + Proxy.staticCluster("h2limited", typed
                        + ", circuit_breakers: { thresholds: [ { max_connections: 1, max_requests: 3 } ] }", origin.port())
                + " ]";
        proxy = new Proxy(Proxy.httpConfig(routes, clusters));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--http1.1", "-m", "10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void curlOverHttp11ReachesTheOriginOverHttp2() throws Exception {
        String base = "http://127.0.0.1:" + proxy.port("listener_0");
        assertThat(curl("-i", base + "/hello?x=1"))
                .startsWith("HTTP/1.1 200 OK")
                .contains("x-origin-protocol: h2")
                .endsWith("GET /hello?x=1 http 127.0.0.1:" + proxy.port("listener_0") + " ");
        assertThat(curl("--data-binary", "payload", base + "/post"))
                .isEqualTo("POST /post http 127.0.0.1:" + proxy.port("listener_0") + " payload");
        assertThat(curl(base + "/legacy/a")).startsWith("GET /legacy/a http ");
        assertThat(proxy.counter("cluster.h2.upstream_cx_http2_total")).isBetween(1L, 2L); // one per worker at most
        assertThat(proxy.counter("cluster.h2.upstream_cx_http1_total")).isZero();
        assertThat(proxy.counter("cluster.h2legacy.upstream_cx_http2_total")).isEqualTo(1);
    }

    /**
     * The HTTP/2 response ends with trailers; the HTTP/1.1 downstream codec drops them, as Envoy's does by
     * default ({@code enable_trailers: false}), and ends the chunked message cleanly. (Trailers end to end over
     * HTTP/2 on both sides are covered by the host-core pool tests and the downstream HTTP/2 codec's tests.)
     */
    @Test
    void responseWithTrailersEndsCleanlyOnHttp11() throws Exception {
        String out = proxy.raw("listener_0",
                "GET /trailers HTTP/1.1\r\nHost: t\r\nTE: trailers\r\nConnection: close\r\n\r\n", 5000);
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("transfer-encoding: chunked")
                .endsWith("\r\n15\r\nGET /trailers http t \r\n0\r\n\r\n<EOF>");
        assertThat(origin.requests).contains("GET /trailers http t ");
    }

    @Test
    void concurrentRequestsShareFewConnectionsAndMaxRequestsCountsStreams() throws Exception {
        int before = origin.connections.get();
        List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(Proxy.CLIENT.sendAsync(HttpRequest.newBuilder(proxy.uri("listener_0", "/limited/" + i))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (origin.heldCount() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        // max_connections 1 does not bound HTTP/2 requests: three streams run at once on the cluster.
        assertThat(origin.heldCount()).isEqualTo(3);
        assertThat(origin.connections.get() - before).isBetween(1, 2);
        // max_requests 3 does: a fourth request overflows.
        HttpResponse<String> fourth = proxy.get("listener_0", "/limited/4");
        assertThat(fourth.statusCode()).isEqualTo(503);
        assertThat(fourth.headers().firstValue("x-envoy-overloaded")).hasValue("true");
        origin.releaseHeld();
        for (CompletableFuture<HttpResponse<String>> f : held) {
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("GET /hold");
        }
    }

    @Test
    void streamResetsBecome503AndRefusedStreamsAreRetried() throws Exception {
        HttpResponse<String> r = proxy.get("listener_0", "/rst");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo(
                "upstream connect error or disconnect/reset before headers. reset reason: remote reset");
        HttpResponse<String> retried = proxy.get("listener_0", "/refuse-once/a");
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(retried.body()).startsWith("GET /refuse-once/a http ");
        assertThat(proxy.counter("cluster.h2.http2.stream_refused_errors")).isEqualTo(1);
        assertThat(proxy.counter("cluster.h2.upstream_rq_retry")).isEqualTo(1);
        // The connection survived both resets.
        assertThat(proxy.get("listener_0", "/after").statusCode()).isEqualTo(200);
        assertThat(proxy.counter("cluster.h2.upstream_cx_destroy")).isZero();
    }
}
