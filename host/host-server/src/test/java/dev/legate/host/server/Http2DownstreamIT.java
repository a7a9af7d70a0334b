package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downstream HTTP/2 (h2c prior knowledge) through the real distribution to an HTTP/1.1 origin: curl and h2load
 * speak HTTP/2 to Legate, the JDK client HTTP/1.1 to the same {@code codec_type: AUTO} listener.
 */
class Http2DownstreamIT {

    @TempDir
    static Path dir;
    static Path accessLog;
    static TestOrigin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin("o");
        accessLog = dir.resolve("access.log");
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
                          codec_type: AUTO
                          http2_protocol_options: { max_concurrent_streams: 100, initial_stream_window_size: 65535 }
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: %s
                              log_format: { text_format: "%%REQ(:PATH)%% %%PROTOCOL%% %%RESPONSE_CODE%%\\n" }
                          route_config:
                            name: local_route
                            virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: o } } ] } ]
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s ]
                """.formatted(accessLog, Proxy.staticCluster("o", "", origin.port()));
        proxy = new Proxy(yaml);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    /** Runs a client; its output is read on another thread so a hung client fails the test after 30 s. */
    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        java.util.concurrent.CompletableFuture<byte[]> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        boolean exited = p.waitFor(30, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        assertThat(exited).as("%s finished within 30 s", command[0]).isTrue();
        return new String(out.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    }

    private String base() {
        return "http://127.0.0.1:" + proxy.port("listener_0");
    }

    @Test
    void curlSpeaksHttp2ToLegateAndTheOriginSeesHttp1() throws Exception {
        String out = run("curl", "-sS", "--http2-prior-knowledge", "-d", "hello h2", "-D", "-",
                "-w", "\\nversion=%{http_version} connects=%{num_connects}\\n", base() + "/echo/h2");
        assertThat(out).startsWith("HTTP/2 200");
        assertThat(out).contains("x-origin: o").contains("x-seen-host: 127.0.0.1:" + proxy.port("listener_0"));
        assertThat(out).contains("hello h2\nversion=2 connects=1");
        assertThat(origin.requests).contains("POST /echo/h2");
        assertThat(accessLogLine("/echo/h2")).isEqualTo("/echo/h2 HTTP/2 200");
        assertThat(proxy.counter("http.ingress_http.downstream_cx_http2_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aLargeDownloadAndUploadFlowThroughTheWindows() throws Exception {
        Path upload = dir.resolve("upload.bin");
        byte[] data = new byte[3_000_000];
        new java.util.Random(42).nextBytes(data);
        Files.write(upload, data);
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(data));
        String up = run("curl", "-sS", "--http2-prior-knowledge", "--data-binary", "@" + upload,
                base() + "/sha256");
        assertThat(up).isEqualTo(sha);
        String down = run("curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null",
                "-w", "%{http_version} %{http_code} %{size_download}", base() + "/bytes/5000000");
        assertThat(down).isEqualTo("2 200 5000000");
    }

    @Test
    void h2loadMultiplexesManyStreamsOnFewConnections() throws Exception {
        long before = proxy.counter("http.ingress_http.downstream_rq_http2_total");
        String out = run("h2load", "-n", "400", "-c", "2", "-m", "20", base() + "/h2load");
        assertThat(out).contains("400 succeeded").contains("status codes: 400 2xx");
        assertThat(proxy.counter("http.ingress_http.downstream_rq_http2_total") - before).isEqualTo(400);
    }

    @Test
    void http1StillWorksOnTheAutoListener() throws Exception {
        HttpResponse<String> r = proxy.get("listener_0", "/plain");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("o GET /plain");
        assertThat(accessLogLine("/plain")).isEqualTo("/plain HTTP/1.1 200");
    }

    private static String accessLogLine(String path) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            if (Files.exists(accessLog)) {
                List<String> lines = new ArrayList<>(Files.readAllLines(accessLog, StandardCharsets.UTF_8));
                for (String l : lines) {
                    if (l.startsWith(path + " ")) {
                        return l;
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                return null;
            }
            Thread.sleep(20);
        }
    }
}
