package dev.legate.filters.http.grpc.bridge;

import static dev.legate.filters.http.grpc.GrpcTestSupport.buf;
import static dev.legate.filters.http.grpc.GrpcTestSupport.frame;
import static dev.legate.filters.http.grpc.GrpcTestSupport.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import dev.legate.testkit.TestStreamInfo;
import dev.legate.testkit.ManualDispatcher;
import io.envoyproxy.envoy.extensions.filters.http.grpc_http1_bridge.v3.Config;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Config and filter tiers of {@code envoy.filters.http.grpc_http1_bridge}. */
class GrpcHttp1BridgeFilterTest {

    private final GrpcHttp1BridgeFilterFactory factory = new GrpcHttp1BridgeFilterFactory();

    // ---- config tier

    @Test
    void registersEnvoysNameAndType() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.grpc_http1_bridge");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.grpc_http1_bridge.v3.Config");
        assertThat(factory.perRouteConfigType()).isNull();
        assertThat(factory.isTerminal()).isFalse();
    }

    @Test
    void bindsBothFields() {
        assertThat(GrpcHttp1BridgeSettings.from(yaml("", Config.newBuilder())))
                .isEqualTo(new GrpcHttp1BridgeSettings(false, false));
        assertThat(GrpcHttp1BridgeSettings.from(yaml(
                "{ upgrade_protobuf_to_grpc: true, ignore_query_parameters: true }", Config.newBuilder())))
                .isEqualTo(new GrpcHttp1BridgeSettings(true, true));
    }

    // ---- filter tier

    private HttpFilterHarness harness(String config, String protocol) {
        return HttpFilterHarness.of(factory.create(yaml(config, Config.newBuilder()), new TestFactoryContext()),
                new ManualDispatcher(), new TestStreamInfo().setProtocol(protocol));
    }

    private static TestHeaderMap grpcRequest(String path) {
        return TestHeaderMap.of(":method", "POST", ":path", path, ":authority", "x", "content-type", "application/grpc");
    }

    @Test
    void http11GrpcResponseIsHeldAndTrailersBecomeHeaders() {
        try (HttpFilterHarness h = harness("", "HTTP/1.1")) {
            assertThat(h.decodeHeaders(grpcRequest("/svc/M"), false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodeData(buf(frame("req")), true)).isEqualTo(FilterDataStatus.CONTINUE);

            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc");
            assertThat(h.encodeResponseHeaders(response, false)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodeResponseData(buf(frame("hello")), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.encodeResponseData(buf(frame("!")), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.encodedHeaders()).isNull();
            assertThat(h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0", "grpc-message", "fine")))
                    .isEqualTo(FilterTrailersStatus.CONTINUE);

            assertThat(response.get(":status")).isEqualTo("200");
            assertThat(response.get("grpc-status")).isEqualTo("0");
            assertThat(response.get("grpc-message")).isEqualTo("fine");
            assertThat(response.get("content-length")).isEqualTo(Integer.toString(frame("hello").length + frame("!").length));
            assertThat(h.encodingBuffer().readableBytes()).isEqualTo(frame("hello").length + frame("!").length);
        }
    }

    @Test
    void nonZeroOrUnparsableGrpcStatusIs503() {
        for (String status : new String[] {"14", "x", "-1", ""}) {
            try (HttpFilterHarness h = harness("", "HTTP/1.1")) {
                h.decodeHeaders(grpcRequest("/svc/M"), true);
                TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc");
                h.encodeResponseHeaders(response, false);
                h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", status, "grpc-message", "no%20way"));
                assertThat(response.get(":status")).as(status).isEqualTo("503");
                assertThat(response.get("grpc-status")).isEqualTo(status);
                assertThat(response.get("grpc-message")).isEqualTo("no%20way");
                assertThat(response.get("content-length")).isEqualTo("0");
            }
        }
    }

    @Test
    void trailersOnlyResponsePassesUnchanged() {
        try (HttpFilterHarness h = harness("", "HTTP/1.1")) {
            h.decodeHeaders(grpcRequest("/svc/M"), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc",
                    "grpc-status", "12");
            assertThat(h.encodeResponseHeaders(response, true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodedHeaders().get(":status")).isEqualTo("200");
            assertThat(h.encodedHeaders().get("grpc-status")).isEqualTo("12");
        }
    }

    @Test
    void http2AndNonGrpcRequestsAreNotBridged() {
        try (HttpFilterHarness h = harness("{ ignore_query_parameters: true }", "HTTP/2")) {
            TestHeaderMap req = grpcRequest("/svc/M?a=b");
            h.decodeHeaders(req, true);
            assertThat(req.path()).isEqualTo("/svc/M?a=b");
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodeResponseData(buf(frame("x")), false)).isEqualTo(FilterDataStatus.CONTINUE);
        }
        try (HttpFilterHarness h = harness("{ ignore_query_parameters: true }", "HTTP/1.1")) {
            TestHeaderMap req = TestHeaderMap.of(":method", "POST", ":path", "/p?q=1", "content-type", "application/json");
            h.decodeHeaders(req, true);
            assertThat(req.path()).isEqualTo("/p?q=1");
            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
        }
    }

    @Test
    void ignoreQueryParametersCutsTheQueryOfABridgedRequest() {
        try (HttpFilterHarness h = harness("{ ignore_query_parameters: true }", "HTTP/1.0")) {
            TestHeaderMap req = grpcRequest("/svc/M?a=b&c");
            h.decodeHeaders(req, true);
            assertThat(req.path()).isEqualTo("/svc/M");
        }
        try (HttpFilterHarness h = harness("", "HTTP/1.1")) {
            TestHeaderMap req = grpcRequest("/svc/M?a=b");
            h.decodeHeaders(req, true);
            assertThat(req.path()).isEqualTo("/svc/M?a=b");
        }
    }

    @Test
    void upgradedProtobufRequestIsFramedAndItsResponseUnframed() {
        try (HttpFilterHarness h = harness("{ upgrade_protobuf_to_grpc: true }", "HTTP/1.1")) {
            TestHeaderMap req = TestHeaderMap.of(":method", "POST", ":path", "/svc/M", "content-type",
                    "application/x-protobuf", "content-length", "11");
            assertThat(h.decodeHeaders(req, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(req.get("content-type")).isEqualTo("application/grpc");
            assertThat(req.contains("content-length")).isFalse();
            assertThat(h.clearRouteCacheCalls()).isEqualTo(1);
            assertThat(h.decodeData(buf("hello "), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.decodeData(buf("world"), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodedBody().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(frame("hello world"));

            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc");
            h.encodeResponseHeaders(response, false);
            byte[] answer = frame("the answer");
            // the frame header split across two chunks
            h.encodeResponseData(buf(answer, 0, 3), false);
            h.encodeResponseData(buf(answer, 3, answer.length), false);
            h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0"));
            assertThat(new String(ByteBufUtil.getBytes(h.encodingBuffer()), StandardCharsets.UTF_8)).isEqualTo("the answer");
            assertThat(response.get("content-length")).isEqualTo("10");
        }
    }

    @Test
    void upgradedRequestWithoutBodyStillSendsOneEmptyMessage() {
        try (HttpFilterHarness h = harness("{ upgrade_protobuf_to_grpc: true }", "HTTP/1.1")) {
            h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/svc/M", "content-type",
                    "application/x-protobuf"), true);
            assertThat(h.decodedBody().getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(frame(new byte[0]));
        }
    }

    @Test
    void protobufIsLeftAloneWithoutTheUpgrade() {
        try (HttpFilterHarness h = harness("", "HTTP/1.1")) {
            TestHeaderMap req = TestHeaderMap.of(":method", "POST", ":path", "/svc/M", "content-type",
                    "application/x-protobuf");
            h.decodeHeaders(req, false);
            assertThat(req.get("content-type")).isEqualTo("application/x-protobuf");
            assertThat(h.decodeData(buf("raw"), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodedBody()).isEqualTo("raw");
        }
    }

    private static TestHeaderMap protobufRequest() {
        return TestHeaderMap.of(":method", "POST", ":path", "/svc/M", "content-type", "application/x-protobuf");
    }

    @Test
    void aPlainResponseToAnUpgradedRequestPassesWholeWithItsContentLength() {
        // e.g. an HTML 404 from a web server, or the router's plain "no healthy upstream" (the request arrived as
        // x-protobuf, so the host's local reply is not gRPC-shaped)
        String[][] replies = {{"404", "text/html", "<html>not here</html>"}, {"503", "text/plain", "no healthy upstream"}};
        for (String[] reply : replies) {
            try (HttpFilterHarness h = harness("{ upgrade_protobuf_to_grpc: true }", "HTTP/1.1")) {
                h.decodeHeaders(protobufRequest(), false);
                h.decodeData(buf("m"), true);
                TestHeaderMap response = TestHeaderMap.of(":status", reply[0], "content-type", reply[1],
                        "content-length", Integer.toString(reply[2].length()));
                assertThat(h.encodeResponseHeaders(response, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
                assertThat(h.encodeResponseData(buf(reply[2]), true)).isEqualTo(FilterDataStatus.CONTINUE);
                assertThat(h.encodedHeaders().get("content-length")).isEqualTo(Integer.toString(reply[2].length()));
                assertThat(h.encodedBody()).as("nothing cut").isEqualTo(reply[2]);
            }
        }
    }

    @Test
    void anUpgradedGrpcResponseEndingWithoutTrailersGetsTheUnframedLength() {
        try (HttpFilterHarness h = harness("{ upgrade_protobuf_to_grpc: true }", "HTTP/1.1")) {
            h.decodeHeaders(protobufRequest(), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc",
                    "content-length", "13");
            h.encodeResponseHeaders(response, false);
            assertThat(h.encodeResponseData(buf(frame("abc")), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.encodeResponseData(buf(frame("de")), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(response.get("content-length")).isEqualTo("5");
            assertThat(new String(ByteBufUtil.getBytes(h.encodingBuffer()), StandardCharsets.UTF_8)).isEqualTo("abcde");
        }
    }

    @Test
    void anHttp2ClientsProtobufRequestIsLeftAlone() {
        // Envoy rewrites the content type but frames nothing (bridging needs HTTP/1.x): Legate does neither
        try (HttpFilterHarness h = harness("{ upgrade_protobuf_to_grpc: true }", "HTTP/2")) {
            TestHeaderMap req = protobufRequest();
            req.set("content-length", "3");
            h.decodeHeaders(req, false);
            assertThat(req.get("content-type")).isEqualTo("application/x-protobuf");
            assertThat(req.get("content-length")).isEqualTo("3");
            assertThat(h.clearRouteCacheCalls()).isZero();
            assertThat(h.decodeData(buf("raw"), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodedBody()).isEqualTo("raw");
        }
    }
}
