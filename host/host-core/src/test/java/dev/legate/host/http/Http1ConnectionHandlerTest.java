package dev.legate.host.http;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.host.listener.ConnectionPipelineInstaller;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/1.1 codec and stream machine on an {@link EmbeddedChannel} (no sockets), with a chain of real test
 * filters: local → buffer → pause → echo. Every buffer made on the channel must be released at the end.
 */
class Http1ConnectionHandlerTest {

    record Resp(int status, HttpHeaders headers, String body) {
    }

    private TestHttpConfig cfg;
    private TrackingAllocator alloc;
    private EmbeddedChannel ch;
    private TestDownstreamConnection conn;

    @BeforeEach
    void setUp() {
        cfg = new TestHttpConfig();
        cfg.chain = TestFilters.chain();
    }

    private void start(int bufferLimit) {
        alloc = new TrackingAllocator();
        ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.freezeTime();
        conn = new TestDownstreamConnection(ch, bufferLimit);
        ConnectionPipelineInstaller installer = new HttpConnectionServiceImpl().connectionManager(cfg);
        installer.install(conn);
    }

    private void start() {
        start(1024 * 1024);
    }

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.runPendingTasks();
            ch.finishAndReleaseAll();
            ch.runPendingTasks();
            assertThat(alloc.unreleased()).as("unreleased buffers").isEmpty();
            assertThat(cfg.gauge("downstream_rq_active")).isZero();
            assertThat(cfg.gauge("downstream_cx_active")).isZero();
        }
    }

    private void send(String s) {
        ByteBuf b = alloc.buffer();
        b.writeCharSequence(s, UTF_8);
        ch.writeInbound(b);
        ch.runPendingTasks();
    }

    private String out() {
        ch.runPendingTasks();
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(UTF_8));
            b.release();
        }
        return sb.toString();
    }

    private void advance(long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
    }

    private static List<Resp> parse(String raw) {
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
        client.writeInbound(Unpooled.copiedBuffer(raw, UTF_8));
        List<Resp> out = new ArrayList<>();
        for (Object o; (o = client.readInbound()) != null; ) {
            FullHttpResponse r = (FullHttpResponse) o;
            assertThat(r.decoderResult().isSuccess()).as("response parses: %s", raw).isTrue();
            out.add(new Resp(r.status().code(), r.headers().copy(), r.content().toString(UTF_8)));
            r.release();
        }
        client.finishAndReleaseAll();
        return out;
    }

    private static Resp only(String raw) {
        List<Resp> rs = parse(raw);
        assertThat(rs).as(raw).hasSize(1);
        return rs.get(0);
    }

    // ------------------------------------------------------------ keep-alive, pipelining, bodies

    @Test
    void keepAliveServesTwoRequestsOnOneConnection() {
        start();
        send("GET /one HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Resp first = only(out());
        send("GET /two?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Resp second = only(out());

        assertThat(first.status()).isEqualTo(200);
        assertThat(first.headers().get("x-echo-path")).isEqualTo("/one");
        assertThat(first.headers().get("x-echo-authority")).isEqualTo("example.com");
        assertThat(first.headers().get("x-echo-scheme")).isEqualTo("http");
        assertThat(first.headers().get("x-echo-request-id")).isEqualTo("rid-1");
        assertThat(first.headers().get("server")).isEqualTo("legate");
        assertThat(first.headers().get("content-length")).isEqualTo("0");
        assertThat(first.headers().contains("connection")).isFalse();
        assertThat(first.headers().getAll("x-seen")).containsExactly("buffer", "local");
        assertThat(second.headers().get("x-echo-path")).isEqualTo("/two?x=1");
        assertThat(ch.isOpen()).isTrue();
        assertThat(cfg.counter("downstream_rq_total")).isEqualTo(2);
        assertThat(cfg.counter("downstream_rq_http1_total")).isEqualTo(2);
        assertThat(cfg.counter("downstream_rq_2xx")).isEqualTo(2);
        assertThat(cfg.counter("downstream_rq_completed")).isEqualTo(2);
        assertThat(cfg.counter("downstream_cx_total")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_http1_total")).isEqualTo(1);
        assertThat(cfg.gauge("downstream_cx_active")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_rx_bytes_total")).isGreaterThan(0);
        assertThat(cfg.counter("downstream_cx_tx_bytes_total")).isGreaterThan(0);
        assertThat(cfg.completed).extracting(TestHttpConfig.Completed::status).containsExactly(200, 200);
    }

    @Test
    void pipelinedRequestWaitsForTheCurrentResponse() {
        start();
        send("GET /a HTTP/1.1\r\nHost: h\r\nx-pause: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(out()).isEmpty();
        assertThat(ch.config().isAutoRead()).as("reading stops while a pipelined request waits").isFalse();

        advance(50);
        List<Resp> rs = parse(out());
        assertThat(rs).extracting(r -> r.headers().get("x-echo-path")).containsExactly("/a", "/b");
        assertThat(ch.config().isAutoRead()).isTrue();
        assertThat(conn.readDisabled).isZero();
    }

    @Test
    void chunkedRequestBodyIsStreamedThroughAndBackChunked() {
        start();
        send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        String partial = out();
        assertThat(partial).startsWith("HTTP/1.1 200 OK\r\n").contains("transfer-encoding: chunked").endsWith("5\r\nhello\r\n");

        send("6\r\n world\r\n0\r\n\r\n");
        Resp r = only(partial + out());
        assertThat(r.body()).isEqualTo("hello world");
        assertThat(cfg.completed).singleElement().satisfies(c -> {
            assertThat(c.bytesReceived()).isEqualTo(11);
            assertThat(c.bytesSent()).isEqualTo(11);
            assertThat(c.requestHeaders().contains("transfer-encoding")).isFalse();
        });
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void contentLengthBodyBufferedByAFilterArrivesWhole() {
        start();
        send("POST /echo HTTP/1.1\r\nHost: h\r\nx-buffer: 1\r\nContent-Length: 10\r\n\r\n01234");
        assertThat(out()).as("headers held while the buffer filter buffers").isEmpty();
        send("56789");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("0123456789");
    }

    @Test
    void hopByHopRequestHeadersAreRemoved() {
        start();
        send("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, x-nominated\r\nKeep-Alive: 5\r\n"
                + "x-nominated: 1\r\nTE: gzip\r\nUpgrade: foo\r\n\r\n");
        Resp r = only(out());
        assertThat(r.headers().get("x-had-keep-alive")).isEqualTo("false");
        HeaderMapAssert req = new HeaderMapAssert(cfg.completed.get(0).requestHeaders());
        req.lacks("connection", "keep-alive", "x-nominated", "te", "upgrade", "host");
    }

    private record HeaderMapAssert(dev.legate.api.http.HeaderMap h) {
        void lacks(String... names) {
            for (String n : names) {
                assertThat(h.contains(n)).as(n).isFalse();
            }
        }
    }

    @Test
    void headRequestGetsHeadersOnly() {
        start();
        send("HEAD /local HTTP/1.1\r\nHost: h\r\n\r\n");
        String raw = out();
        assertThat(raw).startsWith("HTTP/1.1 403 Forbidden\r\n").contains("content-length: 14\r\n")
                .endsWith("\r\n\r\n").doesNotContain("denied by test");
        send("HEAD /echo HTTP/1.1\r\nHost: h\r\n\r\n");
        String raw2 = out();
        assertThat(raw2).startsWith("HTTP/1.1 200 OK\r\n").contains("content-length: 5\r\n").endsWith("\r\n\r\n");
        send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
        assertThat(only(out()).headers().get("x-echo-path")).isEqualTo("/after");
    }

    @Test
    void expectContinueIsAnsweredByTheHostAndStripped() {
        start();
        send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        String first = out();
        assertThat(first).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
        send("abcde");
        String rest = out();
        Resp r = only(first.substring("HTTP/1.1 100 Continue\r\n\r\n".length()) + rest);
        assertThat(r.headers().get("x-had-expect")).isEqualTo("false");
        assertThat(r.body()).isEqualTo("abcde");
        assertThat(cfg.counter("downstream_rq_1xx")).isEqualTo(1);
    }

    @Test
    void expectContinueIsForwardedWithProxy100Continue() {
        cfg.proxy100Continue = true;
        start();
        send("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
        Resp r = only(out());
        assertThat(r.headers().get("x-had-expect")).isEqualTo("true");
    }

    @Test
    void connectionCloseRequestClosesAfterTheResponse() {
        start();
        send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
        Resp r = only(out());
        assertThat(r.headers().get("connection")).isEqualTo("close");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
    }

    // ------------------------------------------------------------ protocol errors

    @Test
    void malformedRequestGets400AndTheConnectionCloses() {
        start();
        send("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).isEqualTo("Bad Request");
        assertThat(r.headers().get("connection")).isEqualTo("close");
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.counter("downstream_cx_protocol_error")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_destroy_local")).isEqualTo(1);
        assertThat(cfg.completed).singleElement().satisfies(c -> {
            assertThat(c.details()).isEqualTo("http1.codec_error");
            assertThat(c.flags()).isEqualTo("DPE");
        });
    }

    @Test
    void oversizedHeadersGet431() {
        cfg.maxRequestHeadersBytes = 1024;
        start();
        send("GET / HTTP/1.1\r\nHost: h\r\nx-big: " + "a".repeat(2000) + "\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(431);
        assertThat(r.body()).isEqualTo("Request Header Fields Too Large");
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.completed.get(0).details()).isEqualTo("http1.headers_too_large");
    }

    @Test
    void tooManyHeadersGet431() {
        cfg.maxHeadersCount = 5;
        start();
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        for (int i = 0; i < 10; i++) {
            sb.append("x-h").append(i).append(": v\r\n");
        }
        send(sb.append("\r\n").toString());
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(431);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void http10Gets426() {
        start();
        send("GET / HTTP/1.0\r\nHost: h\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(426);
        assertThat(r.body()).isEqualTo("Upgrade Required");
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.completed.get(0).details()).isEqualTo("low_version");
    }

    @Test
    void missingHostGets400AndTheConnectionCloses() {
        start();
        send("GET / HTTP/1.1\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).isEmpty();
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.completed.get(0).details()).isEqualTo("missing_host_header");
    }

    // ------------------------------------------------------------ local replies

    @Test
    void localReplyWithBodyIsPlainTextAndPassesEncoderFilters() {
        start();
        send("GET /local HTTP/1.1\r\nHost: h\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("denied by test");
        assertThat(r.headers().get("content-type")).isEqualTo("text/plain");
        assertThat(r.headers().get("content-length")).isEqualTo("14");
        assertThat(r.headers().get("x-test")).isEqualTo("1");
        assertThat(r.headers().get("server")).isEqualTo("legate");
        assertThat(r.headers().getAll("x-seen")).containsExactly("buffer", "local");
        assertThat(cfg.completed.get(0).details()).isEqualTo("test_denied");
        assertThat(cfg.counter("downstream_rq_4xx")).isEqualTo(1);
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void localReplyWithEmptyBodyHasNoContentType() {
        start();
        send("GET /local-empty HTTP/1.1\r\nHost: h\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.body()).isEmpty();
        assertThat(r.headers().contains("content-type")).isFalse();
        assertThat(r.headers().get("content-length")).isEqualTo("0");
    }

    @Test
    void localReplyToGrpcIsTrailersOnly200() {
        start();
        send("POST /local-grpc HTTP/1.1\r\nHost: h\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\n\r\n");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("content-type")).isEqualTo("application/grpc");
        assertThat(r.headers().get("grpc-status")).isEqualTo("14");
        assertThat(r.headers().get("grpc-message")).isEqualTo("no%0Away%25");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void localReplyBeforeTheRequestEndsClosesTheConnection() {
        start();
        send("POST /local HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01234");
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers().get("connection")).isEqualTo("close");
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.counter("downstream_rq_response_before_rq_complete")).isEqualTo(1);
    }

    // ------------------------------------------------------------ stop / continue / limits / timeouts

    @Test
    void stopAllIterationThenContinueDecodingFromATimer() {
        start();
        send("POST /echo HTTP/1.1\r\nHost: h\r\nx-pause: 1\r\nContent-Length: 6\r\n\r\nabc");
        send("def");
        assertThat(out()).isEmpty();
        advance(49);
        assertThat(out()).isEmpty();
        advance(1);
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("abcdef");
    }

    @Test
    void bufferOverTheLimitGets413() {
        start(16);
        send("POST /echo HTTP/1.1\r\nHost: h\r\nx-buffer: 1\r\nContent-Length: 100\r\n\r\n" + "x".repeat(20));
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.body()).isEqualTo("Payload Too Large");
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.counter("downstream_rq_too_large")).isEqualTo(1);
        assertThat(cfg.completed.get(0).details()).isEqualTo("request_payload_too_large");
    }

    @Test
    void streamIdleTimeoutGets408() {
        cfg.streamIdleTimeoutMillis = 1000;
        start();
        send("POST /wait HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01");
        advance(600);
        send("23");
        advance(600);
        assertThat(out()).as("activity re-arms the idle timer").isEmpty();
        advance(400);
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(408);
        assertThat(r.body()).isEqualTo("stream timeout");
        assertThat(cfg.counter("downstream_rq_idle_timeout")).isEqualTo(1);
        assertThat(cfg.completed.get(0).flags()).isEqualTo("SI");
        assertThat(cfg.completed.get(0).details()).isEqualTo("stream_idle_timeout");
    }

    @Test
    void requestTimeoutGets408() {
        cfg.requestTimeoutMillis = 500;
        start();
        send("POST /wait HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01");
        advance(500);
        Resp r = only(out());
        assertThat(r.status()).isEqualTo(408);
        assertThat(r.body()).isEqualTo("request timeout");
        assertThat(cfg.counter("downstream_rq_timeout")).isEqualTo(1);
        assertThat(cfg.completed.get(0).details()).isEqualTo("request_overall_timeout");
    }

    @Test
    void idleConnectionIsClosed() {
        cfg.connectionIdleTimeoutMillis = 1000;
        start();
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        only(out());
        advance(999);
        assertThat(ch.isOpen()).isTrue();
        advance(1);
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.counter("downstream_cx_idle_timeout")).isEqualTo(1);
    }

    @Test
    void remoteCloseMidRequestEndsTheStream() {
        start();
        send("POST /wait HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01");
        ch.close();
        ch.runPendingTasks();
        assertThat(cfg.completed).singleElement().satisfies(c -> assertThat(c.flags()).isEqualTo("DC"));
        assertThat(cfg.counter("downstream_cx_destroy")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_destroy_remote")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_destroy_active_rq")).isEqualTo(1);
        assertThat(cfg.counter("downstream_rq_rx_reset")).isEqualTo(1);
    }
}
