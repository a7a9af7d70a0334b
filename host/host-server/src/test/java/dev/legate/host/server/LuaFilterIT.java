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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code envoy.filters.http.lua} end to end: the real proxy with the scripting plugin loaded by PF4J from the
 * distribution, real origins, the JDK's HTTP client.
 */
class LuaFilterIT {

    static final String MAIN_V1 = """
            function envoy_on_request(request_handle)
              local h = request_handle:headers()
              h:add("x-lua-request", "seen")
              h:remove("x-secret")
              local path = h:get(":path")
              if path == "/deny" then
                request_handle:respond({[":status"] = "403", ["x-lua"] = "denied"}, "forbidden by lua")
              elseif path == "/error" then
                local t = nil
                t.boom = 1
              elseif path == "/loop" then
                while true do end
              end
            end
            function envoy_on_response(response_handle)
              response_handle:headers():add("x-script-version", "1")
            end
            """;

    @TempDir
    static Path dir;

    static TestOrigin origin;
    static TestOrigin second;
    /** {@code lua_cluster} of Envoy's example: answers with a {@code foo} header. */
    static com.sun.net.httpserver.HttpServer fooServer;
    static Proxy proxy;
    static Path mainScript;

    @BeforeAll
    static void start() throws IOException {
        origin = new TestOrigin("origin");
        second = new TestOrigin("second");
        fooServer = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 16);
        fooServer.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                ex.getResponseHeaders().add("foo", "bar");
                byte[] b = "hello back".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            }
        });
        fooServer.start();
        mainScript = dir.resolve("main.lua");
        Files.writeString(mainScript, MAIN_V1);
        String perRoute = """
                typed_per_filter_config: { envoy.filters.http.lua: {
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute, %s } }""";
        String routes = """
                { name: local_route, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/upper" }, route: { cluster: origin, prefix_rewrite: "/echo" }, %s },
                  { match: { prefix: "/call-failures" }, route: { cluster: origin }, %s },
                  { match: { prefix: "/call" }, route: { cluster: origin }, %s },
                  { match: { prefix: "/envoy-doc" }, route: { cluster: origin, prefix_rewrite: "/echo" }, %s },
                  { match: { prefix: "/off" }, route: { cluster: origin }, %s },
                  { match: { prefix: "/sandbox" }, route: { cluster: origin }, %s },
                  { match: { prefix: "/coroutine" }, route: { cluster: origin }, %s },
                  { match: { prefix: "/" }, route: { cluster: origin } } ] } ] }
                """.formatted(perRoute.formatted("name: upper"), perRoute.formatted("name: failures"),
                perRoute.formatted("name: call"),
                perRoute.formatted("name: envoy_doc"), perRoute.formatted("disabled: true"),
                perRoute.formatted("name: sandbox"), perRoute.formatted("name: coroutine"));
        String clusters = "[ " + Proxy.staticCluster("origin", "", origin.port()) + ", "
                + Proxy.staticCluster("second", "", second.port()) + ", "
                + Proxy.staticCluster("lua_cluster", "", fooServer.getAddress().getPort()) + ", "
                + Proxy.staticCluster("dead", "", HttpProxyIT.closedPort()) + " ]";
        String lua = """
                { name: envoy.filters.http.lua, typed_config: {
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua,
                  default_source_code: { filename: "%s" },
                  source_codes: {
                    upper: { inline_string: "function envoy_on_request(h) local b = h:body(); h:headers():replace('x-body-length', tostring(b:length())); b:setBytes(string.upper(b:getBytes(0, b:length()))) end function envoy_on_response(h) local b = h:body(); b:setBytes('[' .. b:getBytes(0, b:length()) .. ']') end" },
                    call: { inline_string: "function envoy_on_request(h) local headers, body = h:httpCall('second', {[':method'] = 'GET', [':path'] = '/hello', [':authority'] = 'second'}, nil, 2000); h:respond({[':status'] = '200', ['x-called-status'] = headers[':status'], ['x-called-origin'] = headers['x-origin']}, 'second said: ' .. body) end" },
                    failures: { inline_string: "function envoy_on_request(h) local dh, db = h:httpCall('dead', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'dead'}, nil, 2000); local sh, sb = h:httpCall('origin', {[':method'] = 'GET', [':path'] = '/slow/3000', [':authority'] = 'origin'}, nil, 200); local bh, bb = h:httpCall('origin', {[':method'] = 'GET', [':path'] = '/bytes/5000000', [':authority'] = 'origin'}, nil, 5000); h:respond({[':status'] = '200'}, dh[':status'] .. ' ' .. db .. '; ' .. sh[':status'] .. ' ' .. sb .. '; ' .. bh[':status'] .. ' ' .. bb) end" },
                    sandbox: { inline_string: "function envoy_on_request(h) if h:headers():get(':path') == '/sandbox/exit' then os.exit(1) end h:respond({[':status'] = '200'}, tostring(os.exit) .. ' ' .. tostring(io) .. ' ' .. tostring(require) .. ' ' .. type(os.time())) end" },
                    coroutine: { inline_string: "function envoy_on_request(h) coroutine.wrap(function() h:respond({[':status'] = '403'}, 'from a coroutine') end)() end" },
                    envoy_doc: { inline_string: %s }
                  } } }""".formatted(mainScript, yamlString(ENVOY_DOC_HTTP_CALL));
        proxy = new Proxy(Proxy.httpConfig(routes, clusters, lua));
    }

    /** The second {@code httpCall} example of Envoy's Lua filter documentation, unchanged. */
    static final String ENVOY_DOC_HTTP_CALL = """
            function envoy_on_request(request_handle)
              -- Make an HTTP call to an upstream host with the following headers, body, and timeout.
              local headers, body = request_handle:httpCall(
              "lua_cluster",
              {
                [":method"] = "POST",
                [":path"] = "/",
                [":authority"] = "lua_cluster"
              },
              "hello world",
              5000)

              -- Add information from the HTTP call into the headers that are about to be sent to the next
              -- filter in the filter chain.
              request_handle:headers():add("upstream_foo", headers["foo"])
              request_handle:headers():add("upstream_body_size", #body)
            end
            """;

    static String yamlString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
        second.close();
        fooServer.stop(0);
    }

    static HttpResponse<String> send(String path, String method, String body, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri("listener_0", path)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return Proxy.CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void transformsRequestAndResponseHeaders() throws Exception {
        int before = origin.requestHeaders.size();
        HttpResponse<String> r = send("/plain", "GET", null, Map.of("x-secret", "s3cr3t"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-script-version")).hasValue("1");
        Map<String, List<String>> seen = origin.requestHeaders.get(before);
        assertThat(seen.get("X-lua-request")).containsExactly("seen");
        assertThat(seen).doesNotContainKey("X-secret");
    }

    @Test
    void readsAndReplacesRequestAndResponseBodies() throws Exception {
        HttpResponse<String> r = send("/upper", "POST", "hello lua", Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("[HELLO LUA]");
    }

    @Test
    void respondAnswersWith403() throws Exception {
        int before = origin.requests.size();
        HttpResponse<String> r = send("/deny", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("forbidden by lua");
        assertThat(r.headers().firstValue("x-lua")).hasValue("denied");
        assertThat(origin.requests.size()).isEqualTo(before);
    }

    @Test
    void httpCallReachesASecondOrigin() throws Exception {
        HttpResponse<String> r = send("/call", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-called-status")).hasValue("200");
        assertThat(r.headers().firstValue("x-called-origin")).hasValue("second");
        assertThat(r.body()).isEqualTo("second said: second GET /hello");
    }

    @Test
    void httpCallFailuresAreResponsesNotErrors() throws Exception {
        long errors = proxy.counter("http.ingress_http.lua.errors");
        HttpResponse<String> r = send("/call-failures", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        // the third call's 5 MB answer is past the 4 MiB bound: a 503 like Envoy's async client, not a script error
        assertThat(r.body()).isEqualTo("503 upstream failure; 504 upstream request timeout; 503 upstream failure");
        assertThat(proxy.counter("http.ingress_http.lua.errors")).isEqualTo(errors);
    }

    @Test
    void envoyDocumentationHttpCallExampleRunsUnchanged() throws Exception {
        int before = origin.requestHeaders.size();
        HttpResponse<String> r = send("/envoy-doc", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, List<String>> seen = origin.requestHeaders.get(before);
        assertThat(seen.get("Upstream_foo")).containsExactly("bar");
        assertThat(seen.get("Upstream_body_size")).containsExactly("10");
    }

    @Test
    void perRouteDisabledSkipsTheScript() throws Exception {
        HttpResponse<String> r = send("/off", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-script-version")).isEmpty();
    }

    @Test
    void runtimeErrorFailsOpenAndIsCountedInAdminStats() throws Exception {
        long before = proxy.counter("http.ingress_http.lua.errors");
        HttpResponse<String> r = send("/error", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("origin GET /error");
        assertThat(proxy.counter("http.ingress_http.lua.errors")).isEqualTo(before + 1);
        assertThat(proxy.admin("GET", "/stats").body()).contains("http.ingress_http.lua.errors: ");
    }

    @Test
    void endlessLoopIsStoppedAndTheNextRequestIsServed() throws Exception {
        long errors = proxy.counter("http.ingress_http.lua.errors");
        long limits = proxy.counter("http.ingress_http.lua.limit_exceeded");
        HttpResponse<String> r = send("/loop", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(proxy.counter("http.ingress_http.lua.limit_exceeded")).isEqualTo(limits + 1);
        assertThat(proxy.counter("http.ingress_http.lua.errors")).isEqualTo(errors + 1);
        HttpResponse<String> next = send("/after-loop", "GET", null, Map.of());
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(next.body()).isEqualTo("origin GET /after-loop");
    }

    @Test
    void editedScriptFileChangesBehaviourAndABrokenEditKeepsTheOldCode() throws Exception {
        Files.writeString(mainScript, MAIN_V1.replace("\"x-script-version\", \"1\"", "\"x-script-version\", \"2\""));
        String version = null;
        for (int i = 0; i < 100 && !"2".equals(version); i++) {
            Thread.sleep(100);
            version = send("/watch", "GET", null, Map.of()).headers().firstValue("x-script-version").orElse(null);
        }
        assertThat(version).isEqualTo("2");
        assertThat(proxy.counter("http.ingress_http.lua.script_reloads")).isGreaterThanOrEqualTo(1);

        long reloadErrors = proxy.counter("http.ingress_http.lua.script_reload_errors");
        Files.writeString(mainScript, "function envoy_on_response(h\n");
        for (int i = 0; i < 100 && proxy.counter("http.ingress_http.lua.script_reload_errors") == reloadErrors; i++) {
            Thread.sleep(100);
        }
        assertThat(proxy.counter("http.ingress_http.lua.script_reload_errors")).isEqualTo(reloadErrors + 1);
        assertThat(send("/watch", "GET", null, Map.of()).headers().firstValue("x-script-version")).hasValue("2");
        Files.writeString(mainScript, MAIN_V1);
        for (int i = 0; i < 100 && !"1".equals(version); i++) {
            Thread.sleep(100);
            version = send("/watch", "GET", null, Map.of()).headers().firstValue("x-script-version").orElse(null);
        }
        assertThat(version).isEqualTo("1");
    }

    @Test
    void exampleConfigRuns() throws Exception {
        Path configs = CliIT.REPO.resolve("configs").toAbsolutePath().normalize();
        int listenerPort = HttpProxyIT.closedPort();
        int backendPort = HttpProxyIT.closedPort();
        String yaml = Files.readString(configs.resolve("lua-example.yaml"))
                .replace("lua/example.lua", configs.resolve("lua/example.lua").toString())
                .replace("lua/enrich.lua", configs.resolve("lua/enrich.lua").toString())
                .replace("port_value: 9901", "port_value: 0")
                .replace("port_value: 10000", "port_value: " + listenerPort)
                .replace("port_value: 10001", "port_value: " + backendPort);
        try (Proxy example = new Proxy(yaml)) {
            HttpResponse<String> root = example.get("listener_0", "/");
            assertThat(root.statusCode()).isEqualTo(200);
            assertThat(root.body()).isEqualTo("hello from the backend\n");
            assertThat(root.headers().firstValue("x-lua-response")).hasValue("legate");
            HttpResponse<String> denied = example.get("listener_0", "/private");
            assertThat(denied.statusCode()).isEqualTo(403);
            assertThat(denied.body()).isEqualTo("private: send an authorization header\n");
            HttpResponse<String> enriched = example.get("listener_0", "/enrich");
            assertThat(enriched.statusCode()).isEqualTo(200);
            assertThat(enriched.body()).isEqualTo("HELLO FROM THE BACKEND\n");
            assertThat(enriched.headers().firstValue("x-user")).hasValue("alice");
            assertThat(example.counter("http.ingress_http.lua.errors")).isZero();
        }
    }

    @Test
    void inlineSyntaxErrorFailsStartUpNamingFieldAndLine() {
        String lua = """
                { name: envoy.filters.http.lua, typed_config: {
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua,
                  inline_code: "function envoy_on_request(h)\\n  h:headers():add('a' 'b')\\nend\\n" } }""";
        String routes = "{ virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ "
                + "{ match: { prefix: \"/\" }, route: { cluster: origin } } ] } ] }";
        assertThatThrownBy(() -> new Proxy(Proxy.httpConfig(routes,
                "[ " + Proxy.staticCluster("origin", "", origin.port()) + " ]", lua)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http_filters[0].typed_config")
                .hasMessageContaining("inline_code: line 2: ");
    }

    @Test
    void sandboxHasNoOsExitAndTheProxyKeepsServing() throws Exception {
        HttpResponse<String> r = send("/sandbox", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("nil nil nil number");
        long errors = proxy.counter("http.ingress_http.lua.errors");
        HttpResponse<String> exit = send("/sandbox/exit", "GET", null, Map.of());
        // os.exit is nil: a script error, fail-open to the origin; the process is still here
        assertThat(exit.statusCode()).isEqualTo(200);
        assertThat(exit.body()).isEqualTo("origin GET /sandbox/exit");
        assertThat(proxy.counter("http.ingress_http.lua.errors")).isEqualTo(errors + 1);
        assertThat(send("/sandbox", "GET", null, Map.of()).body()).isEqualTo("nil nil nil number");
    }

    @Test
    void respondFromACoroutineIsAScriptErrorNotACallOffTheEventLoop() throws Exception {
        long errors = proxy.counter("http.ingress_http.lua.errors");
        HttpResponse<String> r = send("/coroutine", "GET", null, Map.of());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("origin GET /coroutine");
        assertThat(proxy.counter("http.ingress_http.lua.errors")).isEqualTo(errors + 1);
    }
}
