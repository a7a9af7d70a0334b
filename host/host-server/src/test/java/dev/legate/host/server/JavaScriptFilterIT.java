package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code legate.filters.http.javascript} end to end: the real distribution (the scripting plugin loaded by PF4J,
 * GraalVM polyglot from the host's class path), real origins, the JDK's HttpClient.
 */
class JavaScriptFilterIT {

    static final String TYPE = "type.googleapis.com/legate.extensions.filters.http.javascript.v1.JavaScript";
    static final String PER_ROUTE = "type.googleapis.com/legate.extensions.filters.http.javascript.v1.JavaScriptPerRoute";

    static TestOrigin origin;
    static TestOrigin auth;
    static Path dir;
    static Proxy proxy;

    static final String TRANSFORM = """
            function envoy_on_request(handle) {
              const h = handle.headers();
              h.add("x-js-request", "seen " + h.get(":path"));
            }
            function envoy_on_response(handle) {
              handle.headers().add("x-js-response", handle.headers().get(":status"));
            }
            """;

    static final String BODY = """
            async function envoy_on_request(handle) {
              const body = await handle.body();
              const text = body.getBytes(0, body.length());
              body.setBytes("<" + text.toUpperCase() + ">");
            }
            async function envoy_on_response(handle) {
              const body = await handle.body();
              handle.headers().add("x-body-length", String(body.length()));
            }
            """;

    static final String DENY = """
            function envoy_on_request(handle) {
              if (handle.headers().get("x-token") !== "let-me-in") {
                handle.respond({":status": "403", "x-denied-by": "js"}, "denied");
              }
            }
            """;

    static final String CALL = """
            async function envoy_on_request(handle) {
              const res = await handle.httpCall("auth",
                  {":method": "GET", ":path": "/status/201", ":authority": "auth"}, null, 2000);
              handle.headers().add("x-auth", res.headers[":status"] + " " + res.body);
            }
            """;

    static final String ERROR = """
            function envoy_on_request(handle) {
              handle.headers().add("x-before-error", "1");
              null.boom();
            }
            """;

    static final String RESPONSE_ERROR = """
            function envoy_on_response(handle) {
              handle.headers().add("x-before-error", "1");
              handle.nope();
            }
            """;

    static final String LOOP = """
            let calls = 0;
            function envoy_on_request(handle) {
              calls++;
              if (handle.headers().get(":path").startsWith("/loop")) { while (true) {} }
              handle.headers().add("x-calls", String(calls));
            }
            """;

    static String watchedScript(String version) {
        return "function envoy_on_response(handle) { handle.headers().add('x-script-version', '" + version + "'); }\n";
    }

    @BeforeAll
    static void start() throws IOException {
        origin = new TestOrigin("origin");
        auth = new TestOrigin("auth");
        dir = Files.createTempDirectory("legate-js-it");
        Files.writeString(dir.resolve("watched.js"), watchedScript("v1"));
        proxy = new Proxy(config(dir));
    }

    @AfterAll
    static void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
        auth.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static String flow(String script) {
        return "\"" + script.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    static String route(String prefix, String rewrite, String script) {
        return "{ match: { prefix: \"" + prefix + "\" }, route: { cluster: origin"
                + (rewrite == null ? "" : ", prefix_rewrite: \"" + rewrite + "\"") + " }"
                + (script == null ? "" : ", typed_per_filter_config: { legate.filters.http.javascript: { \"@type\": "
                + PER_ROUTE + ", name: " + script + " } }")
                + " }";
    }

    static String listener(String name, String failureMode) {
        String routes = "{ name: r_" + name + ", virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ "
                + route("/body", "/echo", "body") + ", "
                + route("/deny", null, "deny") + ", "
                + route("/call", null, "call") + ", "
                + route("/error", null, "error") + ", "
                + route("/resperror", null, "resperror") + ", "
                + route("/loop", null, "loop") + ", "
                + route("/count", null, "loop") + ", "
                + route("/watched", null, "watched") + ", "
                + route("/", null, null) + " ] } ] }";
        return """
                  - name: %s
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: %s
                          route_config: %s
                          http_filters:
                          - name: legate.filters.http.javascript
                            typed_config:
                              "@type": %s
                              failure_mode: %s
                              call_timeout: 0.2s
                              default_source_code: { inline_string: %s }
                              source_codes:
                                body: { inline_string: %s }
                                deny: { inline_string: %s }
                                call: { inline_string: %s }
                                error: { inline_string: %s }
                                resperror: { inline_string: %s }
                                loop: { inline_string: %s }
                                watched: { filename: "%s" }
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                """.formatted(name, name, routes, TYPE, failureMode, flow(TRANSFORM), flow(BODY), flow(DENY),
                flow(CALL), flow(ERROR), flow(RESPONSE_ERROR), flow(LOOP), dir.resolve("watched.js"));
    }

    static String config(Path dir) {
        return "admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }\n"
                + "static_resources:\n  listeners:\n"
                + listener("open", "FAIL_OPEN") + listener("closed", "FAIL_CLOSED")
                + "  clusters: [ " + Proxy.staticCluster("origin", "", origin.port()) + ", "
                + Proxy.staticCluster("auth", "", auth.port()) + " ]\n";
    }

    static HttpResponse<String> send(String listener, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri(listener, path)).timeout(Duration.ofSeconds(20));
        if (body != null) {
            b.POST(HttpRequest.BodyPublishers.ofString(body));
        }
        return Proxy.CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void headerTransformOnBothPaths() throws Exception {
        HttpResponse<String> r = proxy.get("open", "/plain");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("origin GET /plain");
        assertThat(r.headers().firstValue("x-js-response")).hasValue("200");
        assertThat(origin.requestHeaders.stream()
                .anyMatch(h -> h.getOrDefault("X-js-request", java.util.List.of()).contains("seen /plain"))).isTrue();
    }

    @Test
    void awaitBodyReadsAndReplacesTheRequestBody() throws Exception {
        HttpResponse<String> r = send("open", "/body", "hello world");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("<HELLO WORLD>");
        assertThat(r.headers().firstValue("x-body-length")).hasValue("13");
    }

    @Test
    void respondAnswers403() throws Exception {
        HttpResponse<String> r = proxy.get("open", "/deny");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("denied");
        assertThat(r.headers().firstValue("x-denied-by")).hasValue("js");
        HttpResponse<String> ok = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("open", "/deny"))
                .header("x-token", "let-me-in").timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(200);
    }

    @Test
    void httpCallReachesTheSecondOrigin() throws Exception {
        int before = auth.requests.size();
        HttpResponse<String> r = send("open", "/call/x", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(auth.requests.subList(before, auth.requests.size())).contains("GET /status/201");
        assertThat(origin.requestHeaders.stream()
                .anyMatch(h -> h.getOrDefault("X-auth", java.util.List.of()).contains("201 status 201"))).isTrue();
    }

    @Test
    void runtimeErrorFailsOpenOrClosed() throws Exception {
        long errors = proxy.counter("http.open.javascript.errors");
        HttpResponse<String> open = proxy.get("open", "/error");
        assertThat(open.statusCode()).isEqualTo(200);
        assertThat(open.body()).isEqualTo("origin GET /error");
        assertThat(proxy.counter("http.open.javascript.errors")).isEqualTo(errors + 1);

        HttpResponse<String> closed = proxy.get("closed", "/error");
        assertThat(closed.statusCode()).isEqualTo(500);
        assertThat(closed.headers().firstValue("x-origin")).isEmpty();

        // On the response path: FAIL_OPEN passes the origin's response, FAIL_CLOSED replaces it while it is held.
        HttpResponse<String> openResponse = proxy.get("open", "/resperror");
        assertThat(openResponse.statusCode()).isEqualTo(200);
        assertThat(openResponse.body()).isEqualTo("origin GET /resperror");
        HttpResponse<String> closedResponse = proxy.get("closed", "/resperror");
        assertThat(closedResponse.statusCode()).isEqualTo(500);
        assertThat(closedResponse.body()).doesNotContain("origin");
        assertThat(proxy.get("closed", "/plain").statusCode()).isEqualTo(200);  // the connection pool still works
    }

    @Test
    void endlessLoopIsStoppedAndTheNextRequestIsServed() throws Exception {
        long stopped = proxy.counter("http.open.javascript.limit_exceeded");
        long start = System.nanoTime();
        HttpResponse<String> r = proxy.get("open", "/loop");
        assertThat(r.statusCode()).isEqualTo(200);  // FAIL_OPEN: the stream goes on without the filter
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(proxy.counter("http.open.javascript.limit_exceeded")).isEqualTo(stopped + 1);
        for (int i = 0; i < 4; i++) {  // both workers, same module-scope state per worker
            HttpResponse<String> next = proxy.get("open", "/count");
            assertThat(next.statusCode()).isEqualTo(200);
        }
        assertThat(proxy.get("closed", "/loop").statusCode()).isEqualTo(500);
    }

    @Test
    void editingAWatchedFileChangesBehaviour() throws Exception {
        assertThat(proxy.get("open", "/watched").headers().firstValue("x-script-version")).hasValue("v1");
        long reloads = proxy.counter("http.open.javascript.script_reloads");
        Files.writeString(dir.resolve("watched.js"), "function envoy_on_response(handle) { syntax error here");
        Thread.sleep(300);
        // Does not compile: the old code keeps serving.
        assertThat(proxy.get("open", "/watched").headers().firstValue("x-script-version")).hasValue("v1");
        Files.writeString(dir.resolve("watched.js"), watchedScript("v2"));
        String seen = "v1";
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!seen.equals("v2") && System.nanoTime() < deadline) {
            Thread.sleep(100);
            seen = proxy.get("open", "/watched").headers().firstValue("x-script-version").orElse("none");
        }
        assertThat(seen).isEqualTo("v2");
        assertThat(proxy.counter("http.open.javascript.script_reloads")).isGreaterThan(reloads);
    }

    @Test
    void theExampleConfigValidates() {
        Path example = Path.of(System.getProperty("legate.repo", "../..")).resolve("configs/javascript-example.yaml");
        java.util.List<String> warnings = dev.legate.host.Server.validate(dev.legate.host.ServerOptions.builder()
                .configPath(example).pluginsDirs(java.util.List.of(Proxy.DIST.resolve("plugins-builtin"))).build());
        assertThat(warnings).noneMatch(w -> w.contains("javascript"));
    }

    @Test
    void inlineSyntaxErrorIsAStartupErrorWithLine() {
        String bad = Proxy.httpConfig("{ name: r, virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ "
                        + "{ match: { prefix: \"/\" }, route: { cluster: origin } } ] } ] }",
                "[ " + Proxy.staticCluster("origin", "", origin.port()) + " ]",
                "{ name: legate.filters.http.javascript, typed_config: { \"@type\": " + TYPE
                        + ", default_source_code: { inline_string: \"function envoy_on_request(h) {\\n  h.headers(;\\n}\" } } }");
        assertThatThrownBy(() -> new Proxy(bad))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http_filters[0]")
                .hasMessageContaining("default_source_code: line 2: SyntaxError");
    }

    @Test
    void perRouteSourceCodeInlineAndARelativeFileNextToTheConfig() throws Exception {
        Path confDir = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(confDir.resolve("route.js"),
                "function envoy_on_request(h) { h.respond({':status': '200', 'x-by': 'file'}, 'route file'); }\n");
        String perRoute = "typed_per_filter_config: { legate.filters.http.javascript: { \"@type\": " + PER_ROUTE
                + ", source_code: %s } }";
        String routes = "{ name: r, virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ "
                + "{ match: { prefix: \"/file\" }, route: { cluster: origin }, "
                + perRoute.formatted("{ filename: route.js }") + " }, "
                + "{ match: { prefix: \"/inline\" }, route: { cluster: origin }, "
                + perRoute.formatted("{ inline_string: " + flow("function envoy_on_request(h) { "
                + "h.respond({':status': '200', 'x-by': 'inline'}, 'route inline'); }") + " }") + " }, "
                + "{ match: { prefix: \"/\" }, route: { cluster: origin } } ] } ] }";
        Path config = confDir.resolve("legate.yaml");
        Files.writeString(config, Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("origin", "", origin.port())
                + " ]", "{ name: legate.filters.http.javascript, typed_config: { \"@type\": " + TYPE
                + ", default_source_code: { inline_string: " + flow(TRANSFORM) + " } } }"));
        try (dev.legate.host.Server server = dev.legate.host.Server.start(dev.legate.host.ServerOptions.builder()
                .configPath(config).concurrency(1)
                .pluginsDirs(java.util.List.of(Proxy.DIST.resolve("plugins-builtin"))).build())) {
            int port = server.listenerAddresses().get(0).getPort();
            for (int i = 0; i < 2; i++) {
                for (String[] c : new String[][] {{"/file", "file", "route file"}, {"/inline", "inline", "route inline"}}) {
                    HttpResponse<String> r = Proxy.CLIENT.send(HttpRequest.newBuilder(
                                    java.net.URI.create("http://127.0.0.1:" + port + c[0]))
                            .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.headers().firstValue("x-by")).hasValue(c[1]);
                    assertThat(r.body()).isEqualTo(c[2]);
                }
            }
        }
    }
}
