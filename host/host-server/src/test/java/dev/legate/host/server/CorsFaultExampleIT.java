package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@code configs/cors-fault-example.yaml} as a user runs it (CORS, then fault, then the router), with only its
 * ports changed (listener and admin to 0, the {@code app} cluster to a real origin), driven by curl.
 */
class CorsFaultExampleIT {

    private static final String ALLOWED = "https://app.example.com";

    private static final ObjectMapper JSON = new ObjectMapper();

    private static TestOrigin origin;
    private static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        origin = new TestOrigin("app");
        String yaml = Files.readString(CliIT.REPO.resolve("configs/cors-fault-example.yaml"))
                .replace("port_value: 10000", "port_value: 0")
                .replace("port_value: 9901", "port_value: 0")
                .replace("port_value: 8000", "port_value: " + origin.port());
        proxy = new Proxy(yaml);
    }

    @AfterAll
    static void stop() {
        proxy.close();
        origin.close();
    }

    @Test
    void preflightFromAnAllowedOriginIsAnsweredByLegate() throws Exception {
        int before = origin.requests.size();
        Response r = curl("-X", "OPTIONS", url("/api/preflight"), "-H", "Origin: " + ALLOWED,
                "-H", "Access-Control-Request-Method: PUT");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.header("access-control-allow-origin")).isEqualTo(ALLOWED);
        assertThat(r.header("access-control-allow-methods")).isEqualTo("GET, POST, PUT");
        assertThat(r.header("access-control-allow-headers")).isEqualTo("content-type, x-requested-with");
        assertThat(r.header("access-control-max-age")).isEqualTo("600");
        assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(origin.requests).hasSize(before);
    }

    @Test
    void anActualRequestFromAnAllowedOriginGetsTheCorsHeaders() throws Exception {
        Response r = curl(url("/api/actual"), "-H", "Origin: https://shop.example.org");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.body).isEqualTo("app GET /api/actual");
        assertThat(r.header("access-control-allow-origin")).isEqualTo("https://shop.example.org");
        assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(r.header("access-control-expose-headers")).isEqualTo("x-origin");
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeaders() throws Exception {
        Response r = curl(url("/api/evil"), "-H", "Origin: https://evil.example.net");
        assertThat(r.status).isEqualTo(200);
        assertThat(r.header("access-control-allow-origin")).isNull();
        assertThat(proxy.counter("http.ingress_http.cors.origin_invalid")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void anAbortAskedForByHeaderNeverReachesTheOriginAndKeepsTheCorsHeaders() throws Exception {
        int before = origin.requests.size();
        long aborts = proxy.counter("http.ingress_http.fault.aborts_injected");
        Response r = curl(url("/api/abort"), "-H", "x-envoy-fault-abort-request: 503", "-H", "Origin: " + ALLOWED);
        assertThat(r.status).isEqualTo(503);
        assertThat(r.body).isEqualTo("fault filter abort");
        assertThat(r.header("access-control-allow-origin")).isEqualTo(ALLOWED);
        assertThat(origin.requests).hasSize(before);
        assertThat(proxy.counter("http.ingress_http.fault.aborts_injected")).isEqualTo(aborts + 1);
    }

    @Test
    void aDelayAskedForByHeaderHoldsTheRequest() throws Exception {
        long delays = proxy.counter("http.ingress_http.fault.delays_injected");
        long start = System.nanoTime();
        Response r = curl(url("/api/delayed"), "-H", "x-envoy-fault-delay-request: 300");
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(r.status).isEqualTo(200);
        assertThat(tookMs).isGreaterThanOrEqualTo(280);
        assertThat(proxy.counter("http.ingress_http.fault.delays_injected")).isEqualTo(delays + 1);
    }

    @Test
    void theChaosRouteDelaysEveryRequestAndOtherRoutesAreUntouched() throws Exception {
        long start = System.nanoTime();
        Response slow = curl(url("/chaos/1"));
        long slowMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(slow.status).isEqualTo(200);
        assertThat(slowMs).isGreaterThanOrEqualTo(180);

        Response plain = curl(url("/plain"));
        assertThat(plain.status).isEqualTo(200);
        assertThat(plain.body).isEqualTo("app GET /plain");
    }

    private static String url(String path) {
        return proxy.uri("listener_0", path).toString();
    }

    /** A response as curl reports it: the status, each header's last value (names lower-case), the body. */
    private record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name);
        }
    }

    /** Runs curl; the body goes to a file, the status and curl's {@code %{header_json}} to standard output. */
    private static Response curl(String... args) throws IOException, InterruptedException {
        Path body = Files.createTempFile("curl-body", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--http1.1", "--max-time", "20",
                    "-o", body.toString(), "-w", "%{http_code}\\n%{header_json}"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("curl: %s", out).isZero();
            int newline = out.indexOf('\n');
            Map<String, String> headers = new LinkedHashMap<>();
            JSON.readTree(out.substring(newline + 1)).properties().forEach(e ->
                    headers.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().get(e.getValue().size() - 1).asText()));
            return new Response(Integer.parseInt(out.substring(0, newline).trim()), headers,
                    Files.readString(body));
        } finally {
            Files.deleteIfExists(body);
        }
    }
}
