package dev.legate.filters.http.lua;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.filters.http.scripting.ScriptHttpFilter;
import dev.legate.filters.http.scripting.ScriptLimits;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.LeakCheck;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The "Script examples" of Envoy's Lua filter documentation
 * (docs/root/configuration/http/http_filters/lua_filter.rst), run unchanged. The {@code httpCall} examples run
 * against a real cluster in the host's {@code LuaFilterIT}.
 */
@ExtendWith(LeakCheck.class)
class LuaEnvoyExamplesTest {

    private final TestFactoryContext context = new TestFactoryContext();

    @AfterEach
    void close() {
        context.close();
    }

    private HttpFilterHarness harness(String script) {
        LuaSettings settings = LuaSettings.from(Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setInlineString(script)).build(), context,
                ScriptLimits.DEFAULT);
        return HttpFilterHarness.of(callbacks -> new ScriptHttpFilter(settings.filterSettings(),
                new LuaFilter(settings, callbacks), callbacks));
    }

    @Test
    void bodySizeHeadersAndRemove() {
        try (HttpFilterHarness h = harness("""
                -- Called on the request path.
                function envoy_on_request(request_handle)
                  -- Wait for the entire request body and add a request header with the body size.
                  request_handle:headers():add("request_body_size", request_handle:body():length())
                end

                -- Called on the response path.
                function envoy_on_response(response_handle)
                  -- Wait for the entire response body and add a response header with the body size.
                  response_handle:headers():add("response_body_size", response_handle:body():length())
                  -- Remove a response header named 'foo'
                  response_handle:headers():remove("foo")
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            h.decodeData("0123456789", true);
            h.manualDispatcher().runPending();
            assertThat(h.decodedHeaders().get("request_body_size")).isEqualTo("10");

            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "foo", "bar"), false);
            h.encodeResponseData("abc", true);
            h.manualDispatcher().runPending();
            assertThat(h.encodedHeaders().get("response_body_size")).isEqualTo("3");
            assertThat(h.encodedHeaders().contains("foo")).isFalse();
            assertThat(h.encodedBody()).isEqualTo("abc");
            assertThat(context.statsStore().counter("lua.errors")).isZero();
        }
    }

    @Test
    void logging() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(request_handle)
                  -- Log information about the request
                  request_handle:logInfo("Authority: "..request_handle:headers():get(":authority"))
                  request_handle:logInfo("Method: "..request_handle:headers():get(":method"))
                  request_handle:logInfo("Path: "..request_handle:headers():get(":path"))
                end

                function envoy_on_response(response_handle)
                  -- Log response status code
                  response_handle:logInfo("Status: "..response_handle:headers():get(":status"))
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/x", ":authority", "a"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(context.statsStore().counter("lua.errors")).isZero();
            assertThat(context.statsStore().counter("lua.executions")).isEqualTo(2);
        }
    }

    @Test
    void rewriteTheResponseBodyWithBody() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_response(response_handle)
                  response_handle:body():setBytes("<html><b>Not Found<b></html>")
                  response_handle:headers():replace("content-type", "text/html")
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "404", "content-type", "application/json",
                    "content-length", "13"), false);
            assertThat(h.encodeResponseData("{\"error\":404}", true))
                    .isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            h.manualDispatcher().runPending();
            assertThat(h.encodedHeaders().get("content-type")).isEqualTo("text/html");
            assertThat(h.encodedHeaders().get("content-length")).isEqualTo("28");
            assertThat(h.encodedBody()).isEqualTo("<html><b>Not Found<b></html>");
        }
    }

    @Test
    void rewriteTheResponseBodyWithBodyChunks() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_response(response_handle)

                  -- Sets the content-type.
                  response_handle:headers():replace("content-type", "text/html")

                  local last
                  for chunk in response_handle:bodyChunks() do
                    -- Clears each received chunk.
                    chunk:setBytes("")
                    last = chunk
                  end

                  last:setBytes("<html><b>Not Found<b></html>")
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "404", "content-type", "application/json"),
                    false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodeResponseData("{\"error\":", false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodeResponseData("404}", true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodedHeaders().get("content-type")).isEqualTo("text/html");
            assertThat(h.encodedBody()).isEqualTo("<html><b>Not Found<b></html>");
            assertThat(context.statsStore().counter("lua.errors")).isZero();
        }
    }
}
