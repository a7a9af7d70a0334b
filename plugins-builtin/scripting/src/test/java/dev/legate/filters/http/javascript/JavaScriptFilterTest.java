package dev.legate.filters.http.javascript;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.filters.http.javascript.v1.JavaScript;
import dev.legate.filters.http.javascript.v1.JavaScriptPerRoute;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Filter tier: the JavaScript handle driven through the test kit, no sockets. */
class JavaScriptFilterTest {

    private final TestFactoryContext ctx = new TestFactoryContext();

    @AfterEach
    void close() {
        ctx.close();
    }

    private HttpFilterHarness harness(JavaScript config) {
        HttpFilterInstaller installer = new JavaScriptFilterFactory().create(config, ctx);
        return HttpFilterHarness.of(installer);
    }

    private HttpFilterHarness harness(String script) {
        return harness(JavaScriptFilterFactoryTest.inline(script));
    }

    private long counter(String name) {
        return ctx.statsStore().counterValues().getOrDefault(name, 0L);
    }

    @Test
    void plainFunctionChangesRequestAndResponseHeaders() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle) {
                  const hd = handle.headers();
                  hd.add("x-js", "req:" + hd.get(":path"));
                  hd.remove("x-drop");
                }
                function envoy_on_response(handle) {
                  handle.headers().replace("x-status", handle.headers().get(":status"));
                }
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/a", ":authority", "x",
                    "x-drop", "1"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("x-js")).isEqualTo("req:/a");
            assertThat(h.decodedHeaders().contains("x-drop")).isFalse();
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "201"), true);
            assertThat(h.encodedHeaders().get("x-status")).isEqualTo("201");
            assertThat(counter("javascript.executions")).isEqualTo(2);
            assertThat(counter("javascript.errors")).isZero();
        }
    }

    @Test
    void awaitBodyHoldsHeadersAndReplacesBody() {
        try (HttpFilterHarness h = harness("""
                async function envoy_on_request(handle) {
                  const body = await handle.body();
                  const text = body.getBytes(0, body.length());
                  body.setBytes(text.toUpperCase() + "!");
                  handle.headers().add("x-len", String(text.length));
                }
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/", ":authority", "x",
                    "content-length", "5"), false)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.decodeData("hel", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.decodeData("lo", true)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            h.manualDispatcher().runPending();
            assertThat(h.continueDecodingCalls()).isEqualTo(1);
            assertThat(h.decodedBody()).isEqualTo("HELLO!");
            assertThat(h.decodedHeaders().get("content-length")).isEqualTo("6");
            assertThat(h.decodedHeaders().get("x-len")).isEqualTo("5");
        }
    }

    @Test
    void respondAnswersLocally() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle) {
                  if (handle.headers().get("authorization") === null) {
                    handle.respond({":status": "403", "x-why": ["a", "b"]}, "denied");
                  }
                  handle.headers().add("x-after", "never");
                }
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().get(":status")).isEqualTo("403");
            assertThat(h.encodedHeaders().getAll("x-why")).containsExactly("a", "b");
            assertThat(h.encodedBody()).isEqualTo("denied");
            assertThat(h.streamInfo().responseCodeDetails()).isEqualTo("javascript_response");
        }
    }

    @Test
    void bodyChunksEditEachChunkInFlight() {
        try (HttpFilterHarness h = harness("""
                async function envoy_on_request(handle) {
                  let n = 0;
                  for await (const chunk of handle.bodyChunks()) {
                    n++;
                    chunk.setBytes("[" + chunk.text().toUpperCase() + "]");
                  }
                  handle.logInfo("chunks: " + n);
                }
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/", ":authority", "x"), false))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodeData("ab", false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodeData("cd", true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodedBody()).isEqualTo("[AB][CD]");
            assertThat(counter("javascript.errors")).isZero();
        }
    }

    @Test
    void respondAfterAwaitingTheBody() {
        try (HttpFilterHarness h = harness("""
                async function envoy_on_request(handle) {
                  const body = await handle.body();
                  if (body.text().includes("evil")) {
                    handle.respond({":status": 400}, "bad body");
                  }
                  handle.headers().add("x-after", "not reached when responded");
                }
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/", ":authority", "x"), false);
            h.decodeData("very evil", true);
            h.manualDispatcher().runPending();
            assertThat(h.encodedHeaders().get(":status")).isEqualTo("400");
            assertThat(h.encodedBody()).isEqualTo("bad body");
            assertThat(h.continueDecodingCalls()).isZero();
            assertThat(counter("javascript.errors")).isZero();
        }
    }

    @Test
    void runtimeErrorFailsOpenAndCounts() {
        try (HttpFilterHarness h = harness("function envoy_on_request(handle) { handle.nope(); }")) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.localReplies()).isEmpty();
            assertThat(counter("javascript.errors")).isEqualTo(1);
            assertThat(counter("javascript.limit_exceeded")).isZero();
        }
    }

    @Test
    void runtimeErrorFailsClosedWith500() {
        JavaScript config = JavaScriptFilterFactoryTest.inline(
                "async function envoy_on_request(handle) { await handle.body(); throw new Error('boom'); }")
                .toBuilder().setFailureMode(JavaScript.FailureMode.FAIL_CLOSED).build();
        try (HttpFilterHarness h = harness(config)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/", ":authority", "x"), false);
            h.decodeData("x", true);
            h.manualDispatcher().runPending();
            assertThat(h.lastLocalReply().status()).isEqualTo(500);
            assertThat(h.lastLocalReply().details()).isEqualTo("javascript_error");
            assertThat(counter("javascript.errors")).isEqualTo(1);
            assertThat(counter("javascript.limit_exceeded")).isZero();
        }
    }

    @Test
    void endlessLoopIsStoppedAndTheStateKeepsServing() {
        JavaScript config = JavaScriptFilterFactoryTest.inline("""
                let calls = 0;
                function envoy_on_request(handle) {
                  calls++;
                  if (handle.headers().get(":path") === "/loop") { while (true) {} }
                  handle.headers().add("x-calls", String(calls));
                }
                """).toBuilder().setCallTimeout(Duration.newBuilder().setNanos(50_000_000)).build();
        HttpFilterInstaller installer = new JavaScriptFilterFactory().create(config, ctx);
        try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
            long start = System.nanoTime();
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/loop", ":authority", "x"),
                    true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
            assertThat(counter("javascript.limit_exceeded")).isEqualTo(1);
            assertThat(counter("javascript.errors")).isEqualTo(1);
        }
        try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/ok", ":authority", "x"), true);
            assertThat(h.decodedHeaders().get("x-calls")).isNotNull();
        }
    }

    @Test
    void perRouteDisabledAndNamed() {
        JavaScript config = JavaScript.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder()
                        .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'default'); }"))
                .putSourceCodes("other", DataSource.newBuilder()
                        .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'other'); }").build())
                .build();
        HttpFilterInstaller installer = new JavaScriptFilterFactory().create(config, ctx);
        try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
            h.perRouteConfig(JavaScriptPerRoute.newBuilder().setName("other").build());
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true);
            assertThat(h.decodedHeaders().get("x-s")).isEqualTo("other");
        }
        try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
            h.perRouteConfig(JavaScriptPerRoute.newBuilder().setDisabled(true).build());
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true);
            assertThat(h.decodedHeaders().contains("x-s")).isFalse();
        }
    }

    @Test
    void perRouteSourceCodeInlineAndRelativeFileAreCompiledAtLoad(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("route.js"),
                "function envoy_on_request(h) { h.headers().add('x-s', 'route-file'); }\n");
        JavaScript config = JavaScript.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder()
                        .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'default'); }"))
                .build();
        JavaScriptFilterFactory factory = new JavaScriptFilterFactory();
        HttpFilterInstaller installer = factory.create(config, ctx);
        TestFactoryContext routeContext = ctx.configDirectory(dir);
        Object inline = factory.createRouteSpecificConfig(JavaScriptPerRoute.newBuilder()
                .setSourceCode(DataSource.newBuilder()
                        .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'route'); }"))
                .build(), routeContext);
        Object file = factory.createRouteSpecificConfig(JavaScriptPerRoute.newBuilder()
                .setSourceCode(DataSource.newBuilder().setFilename("route.js")).build(), routeContext);
        assertThat(inline).isInstanceOf(JavaScriptSettings.RouteScript.class);
        for (int i = 0; i < 2; i++) {
            try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
                h.perRouteConfig(inline);
                h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true);
                assertThat(h.decodedHeaders().get("x-s")).isEqualTo("route");
            }
            try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
                h.perRouteConfig(file);
                h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true);
                assertThat(h.decodedHeaders().get("x-s")).isEqualTo("route-file");
            }
        }
        assertThat(counter("javascript.errors")).isZero();
    }

    @Test
    void perRouteSourceCodeNotCompiledAtLoadIsAnErrorNotACompile() {
        JavaScript config = JavaScript.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder()
                        .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'default'); }"))
                .build();
        HttpFilterInstaller installer = new JavaScriptFilterFactory().create(config, ctx);
        try (HttpFilterHarness h = HttpFilterHarness.of(installer)) {
            h.perRouteConfig(JavaScriptPerRoute.newBuilder().setSourceCode(DataSource.newBuilder()
                    .setInlineString("function envoy_on_request(h) { h.headers().add('x-s', 'route'); }")).build());
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", ":authority", "x"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().contains("x-s")).isFalse();
            assertThat(counter("javascript.errors")).isEqualTo(1);
        }
    }
}
