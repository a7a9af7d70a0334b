package dev.legate.filters.http.grpc.web;

import static dev.legate.filters.http.grpc.GrpcTestSupport.buf;
import static dev.legate.filters.http.grpc.GrpcTestSupport.concat;
import static dev.legate.filters.http.grpc.GrpcTestSupport.frame;
import static dev.legate.filters.http.grpc.GrpcTestSupport.routeTo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.stats.Stats;
import dev.legate.host.stats.StatsStore;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.NetworkFilterFakes.FakeCluster;
import dev.legate.testkit.NetworkFilterFakes.FakeClusterManager;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Config and filter tiers of {@code envoy.filters.http.grpc_web}, with the byte strings of Envoy's own
 * grpc_web_filter_test.cc ({@code TEXT_MESSAGE}, {@code B64_MESSAGE}, {@code TRAILERS}).
 */
class GrpcWebFilterTest {

    /** Envoy's test constants. */
    private static final byte[] TEXT_MESSAGE = latin1("\u0000\u0000\u0000\u0000\u0012grpc-web-text-data");
    private static final String B64_MESSAGE = "AAAAABJncnBjLXdlYi10ZXh0LWRhdGE=";
    private static final byte[] TRAILERS = latin1("\u0080\u0000\u0000\u0000\u0020grpc-status:0\r\ngrpc-message:ok\r\n");
    /** Base64 of {@link #TRAILERS}, as Envoy encodes the trailer frame in text mode. */
    private static final String B64_TRAILERS = "gAAAACBncnBjLXN0YXR1czowDQpncnBjLW1lc3NhZ2U6b2sNCg==";

    private final GrpcWebFilterFactory factory = new GrpcWebFilterFactory();

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private HttpFilterHarness harness() {
        return HttpFilterHarness.of(factory.create(GrpcWeb.getDefaultInstance(), new TestFactoryContext()));
    }

    private static TestHeaderMap webRequest(String contentType, String accept) {
        TestHeaderMap h = TestHeaderMap.of(":method", "POST", ":path", "/svc.Greeter/Hello", ":authority", "x",
                "content-type", contentType, "content-length", "42", "x-grpc-web", "1");
        if (accept != null) {
            h.set("accept", accept);
        }
        return h;
    }

    // ---- config tier

    @Test
    void registersEnvoysNameAndType() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.grpc_web");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb");
        assertThat(factory.perRouteConfigType()).isNull();
    }

    // ---- request path

    @Test
    void nonGrpcWebRequestsPassUntouched() {
        for (TestHeaderMap req : new TestHeaderMap[] {
                TestHeaderMap.of(":method", "OPTIONS", ":path", "/svc.Greeter/Hello", "origin", "https://app",
                        "access-control-request-method", "POST"),
                TestHeaderMap.of(":method", "POST", ":path", "/svc.Greeter/Hello", "content-type", "application/grpc"),
                TestHeaderMap.of(":method", "POST", ":path", "/x", "content-type", "application/grpc-web+json"),
                TestHeaderMap.of(":method", "POST", "content-type", "application/grpc-web")}) {
            TestHeaderMap before = TestHeaderMap.copyOf(req);
            try (HttpFilterHarness h = harness()) {
                assertThat(h.decodeHeaders(req, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
                assertThat(h.decodeData(buf("AB"), true)).isEqualTo(FilterDataStatus.CONTINUE);
                assertThat(h.decodedBody()).isEqualTo("AB");
                assertThat(req.toString()).isEqualTo(before.toString());
                TestHeaderMap response = TestHeaderMap.of(":status", "204");
                assertThat(h.encodeResponseHeaders(response, true)).isEqualTo(FilterHeadersStatus.CONTINUE);
                assertThat(response.toString()).isEqualTo(TestHeaderMap.of(":status", "204").toString());
            }
        }
    }

    @Test
    void binaryRequestBecomesGrpc() {
        try (HttpFilterHarness h = harness()) {
            TestHeaderMap req = webRequest("application/grpc-web+proto", null);
            assertThat(h.decodeHeaders(req, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(req.get("content-type")).isEqualTo("application/grpc");
            assertThat(req.get("te")).isEqualTo("trailers");
            assertThat(req.get("grpc-accept-encoding")).isEqualTo("identity");
            assertThat(req.contains("content-length")).isFalse();
            assertThat(req.get("x-grpc-web")).isEqualTo("1");
            assertThat(h.decodeData(buf(frame("abc")), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(latin1(h.decodedBody())).isEqualTo(frame("abc"));
        }
        try (HttpFilterHarness h = harness()) {
            TestHeaderMap req = webRequest("application/grpc-web", null);
            req.set("grpc-accept-encoding", "gzip");
            h.decodeHeaders(req, true);
            assertThat(req.get("grpc-accept-encoding")).isEqualTo("gzip");
        }
    }

    @Test
    void textRequestIsDecodedAcrossEveryChunkSplit() {
        byte[] b64 = B64_MESSAGE.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i <= b64.length; i++) {
            for (int j = i; j <= b64.length; j++) {
                try (HttpFilterHarness h = harness()) {
                    h.decodeHeaders(webRequest("application/grpc-web-text", null), false);
                    h.decodeData(buf(b64, 0, i), false);
                    h.decodeData(buf(b64, i, j), false);
                    assertThat(h.decodeData(buf(b64, j, b64.length), true)).isEqualTo(FilterDataStatus.CONTINUE);
                    assertThat(latin1(h.decodedBody())).as("split at %d, %d", i, j).isEqualTo(TEXT_MESSAGE);
                    assertThat(h.localReplies()).isEmpty();
                }
            }
        }
    }

    @Test
    void textRequestWithoutPaddingIs400BadSize() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web-text+proto", null), false);
            h.decodeData(buf("AAAAABJncnBjLXdlYi10ZXh0LWRhdGE"), true);
            HttpFilterHarness.LocalReply reply = h.lastLocalReply();
            assertThat(reply.status()).isEqualTo(400);
            assertThat(reply.body()).isEqualTo("Bad gRPC-web request, invalid base64 data.");
            assertThat(reply.details()).isEqualTo("grpc_base_64_decode_failed_bad_size");
        }
    }

    @Test
    void textRequestWithBadCharactersIs400BadData() {
        for (String bad : new String[] {"****", "AA==AAAA"}) {
            try (HttpFilterHarness h = harness()) {
                h.decodeHeaders(webRequest("application/grpc-web-text", null), false);
                h.decodeData(buf(bad), false);
                HttpFilterHarness.LocalReply reply = h.lastLocalReply();
                assertThat(reply).as(bad).isNotNull();
                assertThat(reply.status()).isEqualTo(400);
                assertThat(reply.body()).isEqualTo("Bad gRPC-web request, invalid base64 data.");
                assertThat(reply.details()).isEqualTo("grpc_base_64_decode_failed");
            }
        }
    }

    // ---- response path

    @Test
    void trailerFrameIsEnvoysBytes() {
        ByteBuf frame = GrpcWebFilter.trailerFrame(TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok"),
                ByteBufAllocator.DEFAULT);
        try {
            assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(TRAILERS);
        } finally {
            frame.release();
        }
    }

    @Test
    void binaryResponseGetsTheTrailerFrame() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web", "application/grpc-web"), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc",
                    "content-length", "9");
            assertThat(h.encodeResponseHeaders(response, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(response.get("content-type")).isEqualTo("application/grpc-web+proto");
            assertThat(response.contains("content-length")).isFalse();
            assertThat(h.encodeResponseData(buf(frame("hi")), false)).isEqualTo(FilterDataStatus.CONTINUE);
            TestHeaderMap trailers = TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok");
            assertThat(h.encodeResponseTrailers(trailers)).isEqualTo(FilterTrailersStatus.CONTINUE);
            assertThat(trailers.size()).isZero();
            // the harness records bodies as UTF-8: compare through the same decoding (bytes: trailerFrameIsEnvoysBytes)
            assertThat(h.encodedBody()).isEqualTo(new String(concat(frame("hi"), TRAILERS), StandardCharsets.UTF_8));
        }
    }

    @Test
    void textResponseEncodesEachFrameAndTheTrailerFrameAcrossEverySplit() {
        byte[] body = concat(frame("first"), frame(new byte[0]), TEXT_MESSAGE);
        Base64.Encoder b64 = Base64.getEncoder();
        String expected = b64.encodeToString(frame("first")) + b64.encodeToString(frame(new byte[0]))
                + B64_MESSAGE + B64_TRAILERS;
        for (int i = 0; i <= body.length; i++) {
            try (HttpFilterHarness h = harness()) {
                h.decodeHeaders(webRequest("application/grpc-web-text", "application/grpc-web-text"), false);
                h.decodeData(buf(B64_MESSAGE), true);
                TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc");
                h.encodeResponseHeaders(response, false);
                assertThat(response.get("content-type")).isEqualTo("application/grpc-web-text+proto");
                h.encodeResponseData(buf(body, 0, i), false);
                h.encodeResponseData(buf(body, i, body.length), false);
                h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok"));
                assertThat(h.encodedBody()).as("split at %d", i).isEqualTo(expected);
            }
        }
    }

    private HttpFilterHarness textResponse() {
        HttpFilterHarness h = harness();
        h.decodeHeaders(webRequest("application/grpc-web-text", "application/grpc-web-text+proto"), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false);
        return h;
    }

    @Test
    void textResponseCarriesLessThanThreeBytes() {
        try (HttpFilterHarness h = textResponse()) {
            assertThat(h.encodeResponseData(buf(TEXT_MESSAGE, 0, 2), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
            assertThat(h.encodedBody()).isEmpty();
            assertThat(h.encodeResponseData(buf(TEXT_MESSAGE, 2, 7), false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodedBody()).as("6 of 7 bytes: 8 characters, 1 byte carried")
                    .isEqualTo(B64_MESSAGE.substring(0, 8));
            h.encodeResponseData(buf(TEXT_MESSAGE, 7, TEXT_MESSAGE.length), false);
            assertThat(h.encodedBody()).isEqualTo(B64_MESSAGE);
        }
    }

    @Test
    void aLargeFrameInManyChunksIsEncodedAsItArrivesWithEnvoysBytes() {
        byte[] payload = new byte[256 * 1024 + 1];
        new java.util.Random(42).nextBytes(payload);
        byte[] body = concat(frame(payload), TEXT_MESSAGE);
        String expected = Base64.getEncoder().encodeToString(frame(payload)) + B64_MESSAGE + B64_TRAILERS;
        try (HttpFilterHarness h = textResponse()) {
            int sent = 0;
            java.util.Random sizes = new java.util.Random(7);
            while (sent < body.length) {
                int n = Math.min(body.length - sent, 1 + sizes.nextInt(1000));
                h.encodeResponseData(buf(body, sent, sent + n), false);
                sent += n;
                // everything but the 0-2 carried bytes is out already
                int out = h.encodedBody().length();
                assertThat((long) out).as("after %d bytes", sent).isGreaterThanOrEqualTo((sent - 2L) / 3 * 4);
            }
            h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok"));
            assertThat(h.encodedBody()).isEqualTo(expected);
            assertThat(h.encodingBuffer()).as("nothing held").isNull();
        }
    }

    @Test
    void textResponseEndingInsideAFrameResetsTheStream() {
        try (HttpFilterHarness h = textResponse()) {
            assertThat(h.encodeResponseData(buf(TEXT_MESSAGE, 0, 7), true)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
            assertThat(h.resetStreamCalls()).isEqualTo(1);
            assertThat(h.responseComplete()).isFalse();
        }
        try (HttpFilterHarness h = textResponse()) {
            h.encodeResponseData(buf(TEXT_MESSAGE, 0, 7), false);
            TestHeaderMap trailers = TestHeaderMap.of("grpc-status", "0");
            assertThat(h.encodeResponseTrailers(trailers)).isEqualTo(FilterTrailersStatus.STOP_ITERATION);
            assertThat(h.resetStreamCalls()).isEqualTo(1);
            assertThat(h.encodedBody()).as("no trailer frame claims success").isEqualTo(B64_MESSAGE.substring(0, 8));
            assertThat(h.responseComplete()).isFalse();
        }
        try (HttpFilterHarness h = textResponse()) {
            assertThat(h.encodeResponseData(buf(TEXT_MESSAGE), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.resetStreamCalls()).as("a whole frame: no reset").isZero();
            assertThat(h.encodedBody()).isEqualTo(B64_MESSAGE);
        }
    }

    @Test
    void trailersOnlyResponseKeepsItsStatusHeaders() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web", null), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "200", "content-type", "application/grpc",
                    "grpc-status", "12", "grpc-message", "unimplemented");
            assertThat(h.encodeResponseHeaders(response, true)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodedHeaders().get("grpc-status")).isEqualTo("12");
            assertThat(h.encodedHeaders().get("grpc-message")).isEqualTo("unimplemented");
            assertThat(h.encodedHeaders().get("content-type")).isEqualTo("application/grpc-web+proto");
        }
    }

    @Test
    void nonGrpcResponseBecomesGrpcStatusHeaders() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web", null), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "503", "content-type", "text/plain",
                    "content-length", "30");
            assertThat(h.encodeResponseHeaders(response, false)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.encodeResponseData(buf("upstream connect "), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.encodeResponseData(buf("error\n100%"), true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(response.get(":status")).isEqualTo("503");
            assertThat(response.get("grpc-status")).isEqualTo("14");
            assertThat(response.get("grpc-message")).isEqualTo("upstream connect error%0A100%25");
            assertThat(response.get("content-length")).isEqualTo("0");
            assertThat(response.get("content-type")).isEqualTo("application/grpc-web+proto");
            assertThat(h.encodingBuffer().readableBytes()).as("the body is dropped").isZero();
        }
    }

    @Test
    void nonGrpcResponseKeepsAt16KiBOfTheBufferedBody() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web", null), true);
            TestHeaderMap response = TestHeaderMap.of(":status", "404");
            h.encodeResponseHeaders(response, false);
            assertThat(h.encodeResponseData(buf("a".repeat(16384)), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.encodeResponseData(buf("b".repeat(10)), false)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
            h.encodeResponseData(buf("c"), true);
            assertThat(response.get("grpc-status")).isEqualTo("12");
            assertThat(response.get("grpc-message")).isEqualTo("a".repeat(16384));
        }
    }

    @Test
    void localReplyOfAGrpcWebRequestCarriesGrpcStatus() {
        try (HttpFilterHarness h = harness()) {
            h.decodeHeaders(webRequest("application/grpc-web-text", "application/grpc-web-text"), true);
            h.sendLocalReply(503, "no healthy upstream", null, "no_healthy_upstream");
            HttpFilterHarness.LocalReply reply = h.lastLocalReply();
            assertThat(reply.headers().get("grpc-status")).isEqualTo("14");
            assertThat(reply.headers().get("grpc-message")).isEqualTo("no healthy upstream");
            assertThat(reply.headers().get("content-type")).isEqualTo("application/grpc-web-text+proto");
            assertThat(reply.headers().get("content-length")).isEqualTo("0");
        }
    }

    @Test
    void chargesGrpcWebStatsOnTheRoutesCluster() {
        StatsStore store = new StatsStore();
        Stats root = store.root();
        FakeClusterManager clusters = new FakeClusterManager();
        clusters.add(new FakeCluster("backend", root));
        try (HttpFilterHarness h = harness()) {
            h.route(routeTo("backend")).clusterManager(clusters);
            h.decodeHeaders(webRequest("application/grpc-web", null), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false);
            h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0"));
        }
        try (HttpFilterHarness h = harness()) {
            h.route(routeTo("backend")).clusterManager(clusters);
            h.decodeHeaders(webRequest("application/grpc-web", null), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "5"), true);
        }
        assertThat(store.counter("cluster.backend.grpc-web.svc.Greeter.Hello.success")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.grpc-web.svc.Greeter.Hello.failure")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.grpc-web.svc.Greeter.Hello.total")).isEqualTo(2);
        assertThat(store.counter("cluster.backend.grpc-web.svc.Greeter.Hello.0")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.grpc-web.svc.Greeter.Hello.5")).isEqualTo(1);
    }
}
