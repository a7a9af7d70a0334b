package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code envoy.filters.http.fault} end to end: the real proxy with the fault plugin loaded by PF4J from the
 * distribution, a real origin, the JDK's HttpClient and raw sockets. The filter-level config is header-controlled
 * (nothing happens without {@code x-envoy-fault-*} headers); routes override it through
 * {@code typed_per_filter_config}. Times are measured with tolerances.
 */
class FaultIT {

    @TempDir
    static Path dir;
    static Path accessLog;
    static TestOrigin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin("o");
        accessLog = dir.resolve("access.log");
        String routes = """
                { name: local_route, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/abort" }, route: { cluster: o },
                    typed_per_filter_config: { envoy.filters.http.fault: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault,
                      abort: { http_status: 503, percentage: { numerator: 100 } } } } },
                  { match: { prefix: "/grpc-abort" }, route: { cluster: o },
                    typed_per_filter_config: { envoy.filters.http.fault: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault,
                      abort: { grpc_status: 14, percentage: { numerator: 100 } } } } },
                  { match: { prefix: "/delay" }, route: { cluster: o },
                    typed_per_filter_config: { envoy.filters.http.fault: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault,
                      delay: { fixed_delay: 0.5s, percentage: { numerator: 100 } } } } },
                  { match: { prefix: "/slow-body" }, route: { cluster: o, prefix_rewrite: "/bytes" },
                    typed_per_filter_config: { envoy.filters.http.fault: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault,
                      response_rate_limit: { fixed_limit: { limit_kbps: 32 }, percentage: { numerator: 100 } } } } },
                  { match: { prefix: "/" }, route: { cluster: o } } ] } ] }
                """;
        String yaml = """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: listener_0
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ingress_http
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: %s
                              log_format: { text_format: "%%REQ(:PATH)%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%% %%RESPONSE_CODE_DETAILS%%\\n" }
                          route_config: %s
                          http_filters:
                          - name: envoy.filters.http.fault
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                              delay: { header_delay: {}, percentage: { numerator: 100 } }
                              abort: { header_abort: {}, percentage: { numerator: 100 } }
                              response_rate_limit: { header_limit: {}, percentage: { numerator: 100 } }
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s ]
                """.formatted(accessLog, routes, Proxy.staticCluster("o", "", origin.port()));
        proxy = new Proxy(yaml);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    @Test
    void abortAnswersWithTheStatusAndNeverReachesTheOrigin() throws Exception {
        long before = proxy.counter("http.ingress_http.fault.aborts_injected");
        HttpResponse<String> r = proxy.get("listener_0", "/abort/1");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("fault filter abort");
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(origin.requests).noneMatch(s -> s.contains("/abort/1"));
        assertThat(proxy.counter("http.ingress_http.fault.aborts_injected") - before).isEqualTo(1);
        assertThat(accessLogLine("/abort/1")).isEqualTo("/abort/1 503 FI fault_filter_abort");
    }

    @Test
    void grpcAbortIsA200WithTheGrpcStatusTrailersOnly() throws Exception {
        HttpResponse<byte[]> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/grpc-abort/pkg.Svc/Call"))
                .header("content-type", "application/grpc").header("te", "trailers")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {0, 0, 0, 0, 0}))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("14");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("fault filter abort");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc");
        assertThat(r.body()).isEmpty();
        assertThat(accessLogLine("/grpc-abort/pkg.Svc/Call")).isEqualTo("/grpc-abort/pkg.Svc/Call 200 FI fault_filter_abort");
    }

    @Test
    void fixedDelayHoldsTheRequest() throws Exception {
        long before = proxy.counter("http.ingress_http.fault.delays_injected");
        long t0 = System.nanoTime();
        HttpResponse<String> r = proxy.get("listener_0", "/delay/1");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("o GET /delay/1");
        assertThat(ms).as("0.5 s delay").isBetween(480L, 3_000L);
        assertThat(proxy.counter("http.ingress_http.fault.delays_injected") - before).isEqualTo(1);
        assertThat(accessLogLine("/delay/1")).isEqualTo("/delay/1 200 DI via_upstream");
    }

    @Test
    void headersControlTheFaultsOnTheDefaultRoute() throws Exception {
        HttpResponse<String> plain = send("/hdr/none");
        assertThat(plain.statusCode()).as("no header, no fault").isEqualTo(200);

        HttpResponse<String> abort = send("/hdr/abort", "x-envoy-fault-abort-request", "429",
                "x-envoy-downstream-service-cluster", "frontend");
        assertThat(abort.statusCode()).isEqualTo(429);
        assertThat(abort.body()).isEqualTo("fault filter abort");

        HttpResponse<String> grpc = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/hdr/pkg.Svc/Call"))
                .header("content-type", "application/grpc").header("x-envoy-fault-abort-grpc-request", "7")
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(grpc.statusCode()).isEqualTo(200);
        assertThat(grpc.headers().firstValue("grpc-status")).hasValue("7");

        long t0 = System.nanoTime();
        HttpResponse<String> delayed = send("/hdr/delay", "x-envoy-fault-delay-request", "300");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(delayed.statusCode()).isEqualTo(200);
        assertThat(ms).as("300 ms delay from the header").isBetween(280L, 3_000L);

        HttpResponse<String> notTaken = send("/hdr/zero", "x-envoy-fault-abort-request", "429",
                "x-envoy-fault-abort-request-percentage", "0");
        assertThat(notTaken.statusCode()).as("percentage header 0").isEqualTo(200);

        t0 = System.nanoTime();
        HttpResponse<byte[]> throttled = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/bytes/24576"))
                .header("x-envoy-fault-throughput-response", "32").timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(throttled.body()).hasSize(24576);
        // 24 KiB at 32 KiB/s: the first 1.6 KiB at once, the rest in ~0.7 s
        assertThat(ms).as("24 KiB at 32 KiB/s").isBetween(600L, 5_000L);

        HttpResponse<String> stats = proxy.admin("GET", "/stats?filter=^http\\.ingress_http\\.fault\\.");
        assertThat(stats.body()).contains("http.ingress_http.fault.frontend.aborts_injected: 1")
                .contains("http.ingress_http.fault.aborts_injected: ")
                .contains("http.ingress_http.fault.delays_injected: ")
                .contains("http.ingress_http.fault.response_rl_injected: ")
                .contains("http.ingress_http.fault.faults_overflow: 0")
                .contains("http.ingress_http.fault.active_faults: ");
    }

    @Test
    void responseRateLimitPacesTheBody() throws Exception {
        long before = proxy.counter("http.ingress_http.fault.response_rl_injected");
        long t0 = System.nanoTime();
        HttpResponse<InputStream> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0", "/slow-body/65536"))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofInputStream());
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readAllBytes();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(body).isEqualTo(TestOrigin.pattern(65536));
        // 64 KiB at 32 KiB/s: ~1.95 s (the first 50 ms slice goes at once)
        assertThat(ms).as("64 KiB at 32 KiB/s").isBetween(1_500L, 8_000L);
        assertThat(proxy.counter("http.ingress_http.fault.response_rl_injected") - before).isEqualTo(1);
    }

    /**
     * The rate limiter holds at most about the buffer limit (1 MiB) before it pauses the upstream, as a full
     * downstream would. Without that, the origin's 256 MiB would pour into the proxy's memory within the pause
     * (loopback moves 60+ MiB in 3 s, see {@link FlowControlIT}); with it, only socket buffers fill.
     */
    @Test
    void aThrottledResponseHoldsBackTheOrigin() throws Exception {
        long body = 256L << 20;
        long before = origin.bodyBytesWritten.get();
        try (Socket s = new Socket("127.0.0.1", proxy.port("listener_0"))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET /bytes/" + body + " HTTP/1.1\r\nHost: x\r\n"
                    + "x-envoy-fault-throughput-response: 64\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            assertThat(in.read(buf)).as("the response started").isPositive();
            Thread.sleep(3_000);
            long ahead = origin.bodyBytesWritten.get() - before;
            assertThat(ahead).as("origin bytes sent while the proxy paced the body at 64 KiB/s")
                    .isLessThan(32L << 20);
            s.setSoLinger(true, 0);
        }
        waitFor(() -> proxy.server.stats().gauge("http.ingress_http.fault.active_faults") == 0, 2_000);
    }

    /**
     * A client that resets during a 10 s delay ends the stream at once: the delay's timer is cancelled (the
     * fault stops counting well before 10 s), the request never reaches the origin, and the access log says
     * DI,DC. The 10 s delay leaves a wide margin for slow machines; the test then waits past it to prove no
     * timer forwards the request afterwards.
     */
    @Test
    void aClientThatLeavesDuringTheDelayCancelsIt() throws Exception {
        String path = "/hdr/left-" + System.nanoTime();
        long t0 = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", proxy.port("listener_0"))) {
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nx-envoy-fault-delay-request: 10000\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            waitFor(() -> proxy.server.stats().gauge("http.ingress_http.fault.active_faults") >= 1, 3_000);
            assertThat(proxy.server.stats().gauge("http.ingress_http.fault.active_faults")).as("delaying").isPositive();
            s.setSoLinger(true, 0); // close with a TCP reset: the stream is reset (a FIN after a complete
                                    // request would only half-close, and Legate still answers)
        }
        // the stream is reset: the delay's timer is cancelled and the fault no longer counts, well before 10 s
        waitFor(() -> proxy.server.stats().gauge("http.ingress_http.fault.active_faults") == 0, 3_000);
        assertThat(proxy.server.stats().gauge("http.ingress_http.fault.active_faults")).isZero();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until the fault ended").isLessThan(7_000L);
        assertThat(accessLogLine(path)).startsWith(path + " 0 DI,DC");
        // A timer that leaked past the reset would forward the request 10 s after it was sent: wait past that
        // (a loaded machine only makes such a timer fire later) and check the origin never saw it.
        long waitMs = 10_500 - (System.nanoTime() - t0) / 1_000_000;
        if (waitMs > 0) {
            Thread.sleep(waitMs);
        }
        assertThat(origin.requests).noneMatch(r -> r.contains(path));
    }

    // ---- helpers

    private static HttpResponse<String> send(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("listener_0", path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return Proxy.CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The access log line for {@code path} (the writer flushes in batches: polled, at most 5 s). */
    @Test
    void aBadPerRouteFaultStopsStartUpNamingItsPath() {
        String routes = """
                { name: r, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/" }, route: { cluster: o },
                    typed_per_filter_config: { envoy.filters.http.fault: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault,
                      abort: { http_status: 700, percentage: { numerator: 100 } } } } } ] } ] }
                """;
        String yaml = Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("o", "", origin.port()) + " ]",
                "{ name: envoy.filters.http.fault, typed_config: { \"@type\": "
                        + "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault } }");
        assertThatThrownBy(() -> new Proxy(yaml).close())
                .hasMessageContaining("route_config.virtual_hosts[0].routes[0]"
                        + ".typed_per_filter_config[\"envoy.filters.http.fault\"].abort.http_status: 700"
                        + " (expected: >= 200 and < 600)");
    }

    private static String accessLogLine(String path) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            if (Files.exists(accessLog)) {
                List<String> lines = Files.readAllLines(accessLog, StandardCharsets.UTF_8);
                for (String l : lines) {
                    if (l.startsWith(path + " ")) {
                        return l;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return "(no access log line for " + path + ")";
            }
            Thread.sleep(20);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }
}
