package dev.legate.filters.http.lua;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
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

/** Filter tier: Envoy's Lua handle API driven by the test kit's harness, no sockets. */
@ExtendWith(LeakCheck.class)
class LuaFilterTest {

    private final TestFactoryContext context = new TestFactoryContext();

    @AfterEach
    void close() {
        context.close();
    }

    private HttpFilterHarness harness(String script) {
        return harness(script, ScriptLimits.DEFAULT);
    }

    private HttpFilterHarness harness(String script, ScriptLimits limits) {
        Lua config = Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setInlineString(script)).build();
        LuaSettings settings = LuaSettings.from(config, context, limits);
        return HttpFilterHarness.of(callbacks -> new dev.legate.filters.http.scripting.ScriptHttpFilter(
                settings.filterSettings(), new LuaFilter(settings, callbacks), callbacks));
    }

    private long counter(String name) {
        return context.statsStore().counter(name);
    }

    @Test
    void transformsRequestAndResponseHeadersOnTheEventLoop() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(request_handle)
                  local h = request_handle:headers()
                  h:add("x-lua", "yes")
                  h:replace("x-path", h:get(":path"))
                  h:remove("x-drop")
                end
                function envoy_on_response(response_handle)
                  response_handle:headers():add("x-status", response_handle:headers():get(":status"))
                end
                """)) {
            TestHeaderMap req = TestHeaderMap.of(":method", "GET", ":path", "/a", ":authority", "h", "x-drop", "1");
            assertThat(h.decodeHeaders(req, true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("x-lua")).isEqualTo("yes");
            assertThat(h.decodedHeaders().get("x-path")).isEqualTo("/a");
            assertThat(h.decodedHeaders().contains("x-drop")).isFalse();
            assertThat(h.clearRouteCacheCalls()).isGreaterThan(0);
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "201"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodedHeaders().get("x-status")).isEqualTo("201");
            assertThat(counter("lua.executions")).isEqualTo(2);
            assertThat(counter("lua.errors")).isZero();
        }
    }

    @Test
    void headerObjectReadsMultipleValuesAndIterates() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local h = handle:headers()
                  local seen = {}
                  for k, v in pairs(h) do seen[#seen + 1] = k .. "=" .. v end
                  h:add("x-joined", h:get("x-multi"))
                  h:add("x-count", tostring(h:getNumValues("x-multi")))
                  h:add("x-second", h:getAtIndex("x-multi", 1))
                  h:add("x-seen", table.concat(seen, ";"))
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/", "x-multi", "a", "x-multi", "b"), true);
            assertThat(h.decodedHeaders().get("x-joined")).isEqualTo("a,b");
            assertThat(h.decodedHeaders().get("x-count")).isEqualTo("2");
            assertThat(h.decodedHeaders().get("x-second")).isEqualTo("b");
            assertThat(h.decodedHeaders().get("x-seen")).isEqualTo(":method=GET;:path=/;x-multi=a;x-multi=b");
        }
    }

    @Test
    void respondAnswersTheRequestAndSkipsUpstream() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  if handle:headers():get("authorization") == nil then
                    handle:respond({[":status"] = "403", ["x-why"] = "no auth"}, "forbidden")
                  end
                  handle:headers():add("x-after", "never")
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodedHeaders().status()).isEqualTo(403);
            assertThat(h.encodedHeaders().get("x-why")).isEqualTo("no auth");
            assertThat(h.encodedHeaders().get("content-length")).isEqualTo("9");
            assertThat(h.encodedBody()).isEqualTo("forbidden");
            assertThat(h.streamInfo().responseCodeDetails()).isEqualTo("lua_response");
            assertThat(h.requestHeaders().contains("x-after")).isFalse();
            assertThat(counter("lua.errors")).isZero();
        }
    }

    @Test
    void respondOnTheResponsePathIsAScriptErrorAndFailsOpen() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_response(handle)
                  handle:respond({[":status"] = "500"}, "no")
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodedHeaders().status()).isEqualTo(200);
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }

    @Test
    void runtimeErrorIsCountedAndTheStreamGoesOnAsIfTheFilterWereAbsent() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  handle:headers():add("x-before", "1")
                  local t = nil
                  t.field = 1
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("x-before")).isEqualTo("1");
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }

    @Test
    void endlessLoopIsStoppedByTheInstructionBudgetAndCounted() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  while true do pcall(function() while true do end end) end
                end
                """, new ScriptLimits(0, 1_000_000, 0))) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(counter("lua.errors")).isEqualTo(1);
            assertThat(counter("lua.limit_exceeded")).isEqualTo(1);
        }
    }

    @Test
    void endlessLoopIsStoppedByTheTimeBound() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local i = 0
                  while true do i = i + 1 end
                end
                """, new ScriptLimits(50, 0, 0))) {
            long start = System.nanoTime();
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
            assertThat(counter("lua.limit_exceeded")).isEqualTo(1);
        }
    }

    @Test
    void endlessLoopAfterAWaitIsStoppedOnTheCarrierAndFailsOpen() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local body = handle:body()
                  handle:headers():add("x-before-loop", tostring(body:length()))
                  while true do end
                end
                """, new ScriptLimits(0, 1_000_000, 0))) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            h.decodeData("abc", true);
            h.manualDispatcher().runPending();
            assertThat(counter("lua.limit_exceeded")).isEqualTo(1);
            assertThat(counter("lua.errors")).isEqualTo(1);
            assertThat(h.continueDecodingCalls()).isEqualTo(1);
            assertThat(h.decodedHeaders().get("x-before-loop")).isEqualTo("3");
            assertThat(h.decodedBody()).isEqualTo("abc");
        }
    }

    @Test
    void bodyWaitsForTheWholeRequestBodyThenContinues() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local body = handle:body()
                  handle:headers():add("x-len", tostring(body:length()))
                  handle:headers():add("x-head", body:getBytes(0, 5))
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.decodeData("hello ", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.decodeData("world", true)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.continueDecodingCalls()).isZero();
            h.manualDispatcher().runPending();
            assertThat(h.continueDecodingCalls()).isEqualTo(1);
            assertThat(h.decodedHeaders().get("x-len")).isEqualTo("11");
            assertThat(h.decodedHeaders().get("x-head")).isEqualTo("hello");
            assertThat(h.decodedBody()).isEqualTo("hello world");
        }
    }

    @Test
    void bodyOfAHeadersOnlyRequestIsNilWithoutWaiting() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  handle:headers():add("x-body", tostring(handle:body()))
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("x-body")).isEqualTo("nil");
        }
    }

    @Test
    void responseBodyIsReplaced() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_response(handle)
                  local body = handle:body()
                  body:setBytes(string.upper(body:getBytes(0, body:length())) .. "!")
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-length", "5"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodeResponseData("hello", true)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            h.manualDispatcher().runPending();
            assertThat(h.continueEncodingCalls()).isEqualTo(1);
            assertThat(h.encodedHeaders().get("content-length")).isEqualTo("6");
            assertThat(h.encodedBody()).isEqualTo("HELLO!");
        }
    }

    @Test
    void bodyChunksSeeEachChunkAsItPasses() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_response(handle)
                  local n = 0
                  for chunk in handle:bodyChunks() do
                    n = n + chunk:length()
                    handle:logInfo("chunk " .. chunk:getBytes(0, chunk:length()))
                  end
                  handle:logInfo("total " .. n)
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodeResponseData("ab", false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodeResponseData("cde", false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0")))
                    .isEqualTo(FilterTrailersStatus.CONTINUE);
            assertThat(h.encodedBody()).isEqualTo("abcde");
            assertThat(counter("lua.errors")).isZero();
        }
    }

    @Test
    void trailersAreReadAfterTheBody() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local t = handle:trailers()
                  t:add("x-seen", t:get("x-checksum"))
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false);
            assertThat(h.decodeData("x", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            TestHeaderMap trailers = TestHeaderMap.of("x-checksum", "42");
            assertThat(h.decodeTrailers(trailers)).isEqualTo(FilterTrailersStatus.CONTINUE);
            assertThat(trailers.get("x-seen")).isEqualTo("42");
        }
    }

    @Test
    void lua51AndLuaJitGlobalsExist() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local a, b = unpack({1, 2})
                  local h = handle:headers()
                  h:add("x-unpack", tostring(a + b))
                  h:add("x-band", tostring(bit.band(0xff, 0x0f)))
                  h:add("x-bnot", tostring(bit.bnot(0)))
                  h:add("x-tohex", bit.tohex(255))
                  h:add("x-b64", handle:base64Escape("hi"))
                  h:add("x-load", tostring(loadstring("return 7")()))
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(h.decodedHeaders().get("x-unpack")).isEqualTo("3");
            assertThat(h.decodedHeaders().get("x-band")).isEqualTo("15");
            assertThat(h.decodedHeaders().get("x-bnot")).isEqualTo("-1");
            assertThat(h.decodedHeaders().get("x-tohex")).isEqualTo("000000ff");
            assertThat(h.decodedHeaders().get("x-b64")).isEqualTo("aGk=");
            assertThat(h.decodedHeaders().get("x-load")).isEqualTo("7");
        }
    }

    @Test
    void dynamicMetadataIsSetAndReadAcrossDirections() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  handle:streamInfo():dynamicMetadata():set("envoy.filters.http.lua", "user", "alice")
                end
                function envoy_on_response(handle)
                  local md = handle:streamInfo():dynamicMetadata():get("envoy.filters.http.lua")
                  handle:headers():add("x-user", md["user"])
                  handle:headers():add("x-proto", tostring(handle:streamInfo():protocol()))
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(h.encodedHeaders().get("x-user")).isEqualTo("alice");
        }
    }

    @Test
    void handleUsedAfterItsCallIsAnError() {
        try (HttpFilterHarness h = harness("""
                saved = nil
                function envoy_on_request(handle)
                  if saved ~= nil then saved:headers() end
                  saved = handle
                end
                """)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            assertThat(counter("lua.errors")).isZero();
        }
        try (HttpFilterHarness h2 = harness("x = 1")) {
            h2.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
        }
    }

    @Test
    void sandboxHasNoProcessFileOrBlockingFunctionsButKeepsPureOnes() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local h = handle:headers()
                  local gone = {}
                  for _, name in ipairs({"exit", "execute", "remove", "rename", "tmpname"}) do
                    if os[name] == nil then gone[#gone + 1] = name end
                  end
                  h:add("x-os-gone", table.concat(gone, ","))
                  h:add("x-globals", tostring(io) .. "," .. tostring(require) .. "," .. tostring(package) .. ","
                      .. tostring(dofile) .. "," .. tostring(loadfile))
                  h:add("x-pure", type(os.time()) .. "," .. type(os.clock()) .. "," .. type(os.date("%Y"))
                      .. "," .. string.upper("a") .. "," .. math.floor(2.5))
                  local gen = coroutine.wrap(function() coroutine.yield(6 * 7) end)
                  h:add("x-coroutine", tostring(gen()))
                  h:add("x-gc", tostring(collectgarbage("collect")) .. "," .. tostring(collectgarbage("count")))
                  if h:get("x-exit") then os.exit(1) end
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().get("x-os-gone")).isEqualTo("exit,execute,remove,rename,tmpname");
            assertThat(h.decodedHeaders().get("x-globals")).isEqualTo("nil,nil,nil,nil,nil");
            assertThat(h.decodedHeaders().get("x-pure")).isEqualTo("number,number,string,A,2");
            assertThat(h.decodedHeaders().get("x-coroutine")).isEqualTo("42");
            assertThat(h.decodedHeaders().get("x-gc")).as("collectgarbage never calls System.gc()").isEqualTo("0,0");
            assertThat(counter("lua.errors")).isZero();
        }
        try (HttpFilterHarness h = harness("function envoy_on_request(handle) os.exit(1) end")) {
            // os.exit is nil: calling it is a script error, the stream goes on (and this JVM is still here)
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }

    @Test
    void handleCalledFromACoroutineIsAScriptErrorEvenWhenCaught() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local co = coroutine.create(function() handle:headers():add("x-from-coroutine", "1") end)
                  local ok, err = coroutine.resume(co)
                  handle:headers():add("x-resumed", tostring(ok))
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodedHeaders().contains("x-from-coroutine")).isFalse();
            assertThat(h.decodedHeaders().get("x-resumed")).isEqualTo("false");
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }

    @Test
    void respondFromACoroutineIsRefusedAndFailsOpen() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  coroutine.wrap(function() handle:respond({[":status"] = "403"}, "no") end)()
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodedHeaders()).isNull();
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }

    @Test
    void bodyChangedFromACoroutineInAWaitingCallIsRefused() {
        try (HttpFilterHarness h = harness("""
                function envoy_on_request(handle)
                  local body = handle:body()
                  coroutine.wrap(function() body:setBytes("from coroutine") end)()
                end
                """)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            h.decodeData("hello", true);
            h.manualDispatcher().runPending();
            assertThat(h.decodedBody()).isEqualTo("hello");
            assertThat(counter("lua.errors")).isEqualTo(1);
        }
    }
}
