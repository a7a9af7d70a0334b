package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.CodecType;
import dev.legate.api.http.Http2Options;
import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Downstream HTTP/2 (h2c prior knowledge) on a real loopback socket: Netty's HTTP/2 client against the host's
 * codec, {@link ActiveStream} and real filters.
 */
class Http2SocketTest {

    private final TestHttpConfig cfg = new TestHttpConfig();
    private final List<Channel> accepted = new CopyOnWriteArrayList<>();
    private final List<H2TestClient> clients = new ArrayList<>();
    private EventLoopGroup group;
    private Channel server;
    private int port;

    private void start(int bufferLimit) throws Exception {
        cfg.chain = Http2TestFilters.chain();
        group = Transports.newGroup(1, "h2-test");
        var installer = new HttpConnectionServiceImpl(cfg.store.root()).connectionManager(cfg);
        server = new ServerBootstrap().group(group).channel(Transports.serverChannelClass())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        accepted.add(ch);
                        installer.install(new TestDownstreamConnection(ch, bufferLimit));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    private void start() throws Exception {
        start(1 << 20);
    }

    private H2TestClient client() throws Exception {
        H2TestClient c = new H2TestClient(port);
        clients.add(c);
        return c;
    }

    @AfterEach
    void stop() throws Exception {
        for (H2TestClient c : clients) {
            c.close();
        }
        if (server != null) {
            server.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private long h2(String name) {
        return cfg.store.counter("http2." + name);
    }

    @Test
    void getAndPostGoThroughTheFilterChainWithTheSamePseudoHeadersAsHttp1() throws Exception {
        cfg.codecType = CodecType.HTTP2;
        start();
        H2TestClient c = client();
        Http2Settings settings = c.serverSettings();
        assertThat(settings.maxConcurrentStreams()).isEqualTo(1024L);
        assertThat(settings.initialWindowSize()).isEqualTo(268_435_456);

        H2TestClient.Stream get = c.open();
        get.headers(H2TestClient.request("GET", "/hello?x=1").add("cookie", "a=1").add("cookie", "b=2"), true);
        H2TestClient.Response r = get.get();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("x-echo-path")).hasToString("/hello?x=1");
        assertThat(r.headers().get("x-echo-method")).hasToString("GET");
        assertThat(r.headers().get("x-echo-authority")).hasToString("test.local");
        assertThat(r.headers().get("x-echo-scheme")).hasToString("http");
        assertThat(r.headers().get("x-echo-cookie")).hasToString("a=1; b=2");
        assertThat(r.headers().get("server")).hasToString("legate");
        assertThat(r.headers().contains("keep-alive")).as("connection-specific header stripped").isFalse();

        // No :authority: host is folded into it (and removed), as for HTTP/1.1.
        H2TestClient.Stream hostOnly = c.open();
        hostOnly.headers(new DefaultHttp2Headers().method("GET").path("/h").scheme("http").add("host", "h.example"),
                true);
        H2TestClient.Response h = hostOnly.get();
        assertThat(h.headers().get("x-echo-authority")).hasToString("h.example");
        assertThat(h.headers().get("x-echo-host")).hasToString("null");

        String body = "x".repeat(100_000);
        H2TestClient.Stream post = c.open();
        post.headers(H2TestClient.request("POST", "/echo"), false);
        post.data(body, true);
        H2TestClient.Response p = post.get();
        assertThat(p.status()).isEqualTo(200);
        assertThat(p.body()).isEqualTo(body);

        H2TestClient.Stream local = c.open();
        local.headers(H2TestClient.request("GET", "/local"), true);
        H2TestClient.Response l = local.get();
        assertThat(l.status()).isEqualTo(403);
        assertThat(l.body()).isEqualTo("denied by test");

        assertThat(cfg.counter("downstream_cx_http2_total")).isEqualTo(1);
        assertThat(cfg.gauge("downstream_cx_http2_active")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_http1_total")).isZero();
        assertThat(cfg.counter("downstream_rq_http2_total")).isEqualTo(4);
        assertThat(cfg.counter("downstream_rq_total")).isEqualTo(4);
        assertThat(cfg.counter("downstream_rq_2xx")).isEqualTo(3);
        assertThat(cfg.protocols).containsOnly("HTTP/2");
    }

    @Test
    void aLocalReplyBeforeTheRequestEndsKeepsItsBodyAndThenResetsTheStream() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("POST", "/local"), false); // the body is still to come
        H2TestClient.Response r = s.get();
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers().get("content-length")).hasToString("14");
        assertThat(r.body()).isEqualTo("denied by test");
        assertThat(r.rstCode()).as("the response ended with END_STREAM, not a reset").isNull();
        assertThat(s.rst.get(5, TimeUnit.SECONDS)).isEqualTo(Http2Error.NO_ERROR.code());
        waitFor(() -> cfg.counter("downstream_rq_response_before_rq_complete") == 1);
    }

    @Test
    void aResponseBiggerThanTheClientWindowIsDeliveredWhileTheClientIsStillUploading() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("POST", "/stream/300000"), false).sync();
        s.data("part of an upload that never ends", false);
        H2TestClient.Response r = s.get();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).as("all of it, beyond the 64 KiB window").hasSize(300_000);
        assertThat(s.rst.get(5, TimeUnit.SECONDS)).isEqualTo(Http2Error.NO_ERROR.code());
    }

    @Test
    void trailersGoBothWays() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("POST", "/echo"), false);
        s.data("payload", false);
        s.trailers(new DefaultHttp2Headers().add("x-request-trailer", "abc"));
        H2TestClient.Response r = s.get();
        assertThat(r.body()).isEqualTo("payload");
        assertThat(r.trailers()).isNotNull();
        assertThat(r.trailers().get("x-trailer-echo")).hasToString("abc");

        H2TestClient.Stream t = c.open();
        t.headers(H2TestClient.request("GET", "/trailers"), true);
        H2TestClient.Response tr = t.get();
        assertThat(tr.body()).isEqualTo("ok");
        assertThat(tr.trailers().get("grpc-status")).hasToString("0");
        assertThat(h2("trailers")).isEqualTo(1);
    }

    @Test
    void manyConcurrentStreamsShareOneConnection() throws Exception {
        start();
        H2TestClient c = client();
        List<H2TestClient.Stream> streams = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            H2TestClient.Stream s = c.open();
            s.headers(H2TestClient.request("POST", "/s" + i).add("x-hold", "20"), false);
            streams.add(s);
        }
        for (int i = 0; i < streams.size(); i++) {
            streams.get(i).data("body-" + i, true);
        }
        for (int i = 0; i < streams.size(); i++) {
            H2TestClient.Response r = streams.get(i).get();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.headers().get("x-echo-path")).hasToString("/s" + i);
            assertThat(r.body()).isEqualTo("body-" + i);
        }
        assertThat(cfg.counter("downstream_cx_total")).isEqualTo(1);
        assertThat(cfg.counter("downstream_rq_http2_total")).isEqualTo(100);
    }

    @Test
    void streamsBeyondMaxConcurrentStreamsAreRefused() throws Exception {
        cfg.http2Options = new Http2Options(2, 65_535, 65_535, false, 4096);
        start();
        H2TestClient c = client();
        assertThat(c.serverSettings().maxConcurrentStreams()).isEqualTo(2L);
        // Let this client open more than the server allows (Netty's client would refuse locally).
        c.channel.eventLoop().submit(() -> c.codec.connection().local().maxActiveStreams(100)).sync();
        H2TestClient.Stream a = c.open();
        a.headers(H2TestClient.request("GET", "/wait"), true).sync();
        H2TestClient.Stream b = c.open();
        b.headers(H2TestClient.request("GET", "/wait"), true).sync();
        H2TestClient.Stream third = c.open();
        third.headers(H2TestClient.request("GET", "/x"), true);
        H2TestClient.Response refused = third.get();
        assertThat(refused.rstCode()).isEqualTo(Http2Error.REFUSED_STREAM.code());
        assertThat(h2("tx_reset")).isEqualTo(1);

        // The connection goes on: once a slot is free a new stream is served.
        a.reset();
        a.get();
        H2TestClient.Stream fourth = c.open();
        fourth.headers(H2TestClient.request("GET", "/y"), true);
        assertThat(fourth.get().status()).isEqualTo(200);
        assertThat(b.done).isNotDone();
    }

    @Test
    void aClientResetEndsOnlyThatStream() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream a = c.open();
        a.headers(H2TestClient.request("GET", "/wait"), true).sync();
        H2TestClient.Stream b = c.open();
        b.headers(H2TestClient.request("POST", "/b"), false).sync();
        b.data("first ", false).sync();
        a.reset().sync();
        b.data("second", true);
        H2TestClient.Response rb = b.get();
        assertThat(rb.status()).isEqualTo(200);
        assertThat(rb.body()).isEqualTo("first second");
        assertThat(c.channel.isActive()).isTrue();
        waitFor(() -> h2("rx_reset") == 1 && cfg.counter("downstream_rq_rx_reset") == 1);
        assertThat(cfg.completed).anySatisfy(done -> {
            assertThat(done.flags()).isEqualTo("DC");
            assertThat(done.requestHeaders().path()).isEqualTo("/wait");
        });
    }

    @Test
    void aReadDisabledStreamStopsReturningItsWindow() throws Exception {
        cfg.http2Options = new Http2Options(1024, 65_535, 65_535, false, 4096);
        start(16 * 1024);
        H2TestClient c = client();
        c.serverSettings();
        H2TestClient.Stream s = c.open();
        // The hold filter buffers with watermarks: over 16 KiB the stream is read-disabled for 1.5 s.
        s.headers(H2TestClient.request("POST", "/slow").add("x-hold", "1500"), false).sync();
        byte[] big = new byte[400_000];
        java.util.Arrays.fill(big, (byte) 'y');
        ChannelFuture written = s.data(Unpooled.wrappedBuffer(big), true);
        waitFor(() -> cfg.counter("downstream_flow_control_paused_reading_total") >= 1 && streamWindow(c, s) == 0);
        Thread.sleep(200); // read-disabled: the window is not given back meanwhile
        assertThat(streamWindow(c, s)).isZero();
        assertThat(written.isDone()).as("the client is blocked by the stream window").isFalse();

        H2TestClient.Response r = s.done.get(10, TimeUnit.SECONDS);
        assertThat(r.body()).hasSize(400_000);
        assertThat(written.isSuccess()).isTrue();
        assertThat(cfg.counter("downstream_flow_control_resumed_reading_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aSlowReaderPausesTheResponseSourceThroughTheStreamWindow() throws Exception {
        Http2TestFilters.EchoFilter.ABOVE.set(0);
        Http2TestFilters.EchoFilter.STREAMED.set(0);
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.ch.config().setAutoRead(false); // the client reads nothing: no WINDOW_UPDATE for the stream
        s.headers(H2TestClient.request("GET", "/stream/4000000"), true).sync();
        waitFor(() -> Http2TestFilters.EchoFilter.ABOVE.get() >= 1);
        long streamed = Http2TestFilters.EchoFilter.STREAMED.get();
        assertThat(Http2TestFilters.EchoFilter.ABOVE.get()).isGreaterThanOrEqualTo(1);
        // Held by Legate at most: the 64 KiB stream window plus the 1 MiB buffer limit and one chunk.
        assertThat(streamed).isLessThan(65_535 + (1 << 20) + 16_384 + 1);
        s.ch.config().setAutoRead(true);
        H2TestClient.Response r = s.done.get(10, TimeUnit.SECONDS);
        assertThat(r.body()).hasSize(4_000_000);
        assertThat(Http2TestFilters.EchoFilter.STREAMED.get()).isEqualTo(4_000_000);
    }

    @Test
    void autoSniffsHttp1AndHttp2OnOneListener() throws Exception {
        cfg.codecType = CodecType.AUTO;
        start();
        HttpClient jdk = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> h1 = jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/one"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(h1.statusCode()).isEqualTo(200);
        assertThat(h1.headers().firstValue("x-echo-path")).hasValue("/one");

        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("GET", "/two"), true);
        H2TestClient.Response r = s.get();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("x-echo-path")).hasToString("/two");

        assertThat(cfg.counter("downstream_cx_http1_total")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_http2_total")).isEqualTo(1);
        assertThat(cfg.protocols).containsExactlyInAnyOrder("HTTP/1.1", "HTTP/2");
    }

    @Test
    void autoWaitsForTheWholePrefaceAndFallsBackToHttp1AtTheFirstDifferentByte() throws Exception {
        start();
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
            sock.setSoTimeout(5000);
            var out = sock.getOutputStream();
            out.write("PRI * HTTP/2.0\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(100);
            out.write("\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
            out.flush();
            byte[] head = sock.getInputStream().readNBytes(9);
            assertThat(head[3]).as("the server's first frame is SETTINGS").isEqualTo((byte) 4);
        }
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
            sock.setSoTimeout(5000);
            var out = sock.getOutputStream();
            out.write("P".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(100);
            out.write("OST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            String all = new String(sock.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(all).startsWith("HTTP/1.1 200").contains("x-echo-path: /p").contains("\r\nhi\r\n");
        }
        waitFor(() -> cfg.counter("downstream_cx_http2_total") == 1 && cfg.counter("downstream_cx_http1_total") == 1);
    }

    @Test
    void autoCountsConnectionsThatEndBeforeACodecIsChosen() throws Exception {
        cfg.codecType = CodecType.AUTO;
        cfg.connectionIdleTimeoutMillis = 200;
        start();
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
            sock.getOutputStream().write("PRI".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sock.getOutputStream().flush();
            waitFor(() -> accepted.size() == 1);
        }
        waitFor(() -> cfg.counter("downstream_cx_destroy_remote") == 1);
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
            sock.setSoTimeout(5000);
            assertThat(sock.getInputStream().read()).as("closed by the idle timeout").isEqualTo(-1);
        }
        waitFor(() -> cfg.counter("downstream_cx_destroy_local") == 1);
        assertThat(cfg.counter("downstream_cx_total")).isEqualTo(2);
        assertThat(cfg.counter("downstream_cx_destroy")).isEqualTo(2);
        assertThat(cfg.counter("downstream_cx_idle_timeout")).isEqualTo(1);
        assertThat(cfg.gauge("downstream_cx_active")).isZero();
    }

    @Test
    void idleTimeoutSendsGoAwayThenCloses() throws Exception {
        cfg.connectionIdleTimeoutMillis = 200;
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("GET", "/a"), true);
        s.get();
        Http2GoAwayFrame g = c.goAway(3000);
        assertThat(g).isNotNull();
        assertThat(g.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
        assertThat(g.lastStreamId()).isEqualTo(3);
        assertThat(c.channel.closeFuture().await(3, TimeUnit.SECONDS)).isTrue();
        assertThat(cfg.counter("downstream_cx_idle_timeout")).isEqualTo(1);
        waitFor(() -> cfg.counter("downstream_cx_destroy_local") == 1);
    }

    @Test
    void closingTheConnectionDrainsActiveStreamsAfterGoAway() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("POST", "/drain").add("x-hold", "300"), false).sync();
        waitFor(() -> accepted.size() == 1 && cfg.counter("downstream_rq_total") == 1);
        accepted.get(0).close(); // what a listener shutdown does to each connection
        Http2GoAwayFrame g = c.goAway(3000);
        assertThat(g).isNotNull();
        assertThat(g.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
        assertThat(g.lastStreamId()).isEqualTo(3);
        s.data("late body", true);
        H2TestClient.Response r = s.get();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("late body");
        assertThat(c.channel.closeFuture().await(3, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void drainTimeoutBoundsTheGracefulClose() throws Exception {
        cfg.drainTimeoutMillis = 300;
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("GET", "/wait"), true).sync();
        H2TestClient.Stream s2 = c.open();
        s2.headers(H2TestClient.request("GET", "/wait"), true).sync();
        waitFor(() -> accepted.size() == 1 && cfg.counter("downstream_rq_total") == 2);
        long t0 = System.nanoTime();
        accepted.get(0).close();
        assertThat(c.goAway(3000)).isNotNull();
        assertThat(c.channel.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(ms).as("closed after drain_timeout, not at once and not never").isBetween(250L, 4000L);
        assertThat(s.done.get(3, TimeUnit.SECONDS).headers()).isNull();
        waitFor(() -> cfg.counter("downstream_rq_rx_reset") == 2);
        assertThat(cfg.counter("downstream_cx_destroy_active_rq")).as("once per connection, not per stream")
                .isEqualTo(1);
    }

    @Test
    void aConnectionErrorIsAnsweredWithGoAwayAndAClose() throws Exception {
        start();
        H2TestClient c = client();
        c.serverSettings();
        // A DATA frame on stream 0, written under the client's codec: a connection error (RFC 9113 §6.1).
        byte[] frame = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
        c.channel.pipeline().firstContext().writeAndFlush(Unpooled.wrappedBuffer(frame)).sync();
        Http2GoAwayFrame g = c.goAway(3000);
        assertThat(g).isNotNull();
        assertThat(g.errorCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        assertThat(c.channel.closeFuture().await(3, TimeUnit.SECONDS)).isTrue();
        waitFor(() -> cfg.counter("downstream_cx_protocol_error") == 1
                && cfg.counter("downstream_cx_destroy_local") == 1);
    }

    @Test
    void extendedConnectBecomesAnHttp1UpgradeForTheFilters() throws Exception {
        cfg.http2Options = new Http2Options(1024, 268_435_456, 268_435_456, true, 4096);
        cfg.upgradeConfigs = Map.of("websocket", true);
        start();
        H2TestClient c = client();
        assertThat(c.serverSettings().connectProtocolEnabled()).isTrue();
        H2TestClient.Stream s = c.open();
        Http2Headers h = new DefaultHttp2Headers().method("CONNECT").path("/chat").scheme("http")
                .authority("test.local").add(":protocol", "websocket");
        s.headers(h, false).sync();
        s.data("hello", false).sync();
        assertThat(s.chunks.poll(5, TimeUnit.SECONDS)).isEqualTo("hello");
        s.data(" again", true);
        H2TestClient.Response r = s.get();
        assertThat(r.status()).as("the chain's 101 goes out as 200").isEqualTo(200);
        assertThat(r.headers().get("x-echo-method")).hasToString("GET");
        assertThat(r.headers().get("x-echo-upgrade")).hasToString("websocket");
        assertThat(r.headers().get("x-echo-connection")).hasToString("upgrade");
        assertThat(r.headers().get("x-echo-protocol")).hasToString("null");
        assertThat(r.headers().get("x-echo-path")).hasToString("/chat");
        assertThat(r.headers().contains("upgrade")).isFalse();
        assertThat(r.headers().contains("connection")).isFalse();
        assertThat(r.body()).isEqualTo("hello again");
    }

    @Test
    void extendedConnectWithoutAllowConnectIsAStreamError() throws Exception {
        start();
        H2TestClient c = client();
        assertThat(c.serverSettings().connectProtocolEnabled()).isNull();
        H2TestClient.Stream s = c.open();
        s.headers(new DefaultHttp2Headers().method("CONNECT").path("/chat").scheme("http").authority("test.local")
                .add(":protocol", "websocket"), false);
        H2TestClient.Response r = s.get();
        assertThat(r.headers()).isNull();
        assertThat(r.rstCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());

        // A stream missing :path is a messaging error too; the connection serves the next stream.
        H2TestClient.Stream noPath = c.open();
        noPath.headers(new DefaultHttp2Headers().method("GET").scheme("http").authority("a"), true);
        assertThat(noPath.get().rstCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        H2TestClient.Stream ok = c.open();
        ok.headers(H2TestClient.request("GET", "/fine"), true);
        assertThat(ok.get().status()).isEqualTo(200);
    }

    @Test
    void aPlainConnectIsAnUpgradeOfTypeConnectAndRefusedWithoutConfig() throws Exception {
        cfg.upgradeConfigs = Map.of("websocket", true);
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(new DefaultHttp2Headers().method("CONNECT").authority("origin.example:443"), false);
        H2TestClient.Response r = s.get();
        assertThat(r.status()).isEqualTo(403);
        waitFor(() -> cfg.completed.size() == 1);
        assertThat(cfg.completed.get(0).details()).isEqualTo("upgrade_failed");
        assertThat(cfg.counter("downstream_rq_ws_on_non_ws_route")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_upgrades_total")).isZero();
    }

    @Test
    void anExtendedConnectWithoutPathOrSchemeIsAStreamError() throws Exception {
        cfg.http2Options = new Http2Options(1024, 268_435_456, 268_435_456, true, 4096);
        cfg.upgradeConfigs = Map.of("websocket", true);
        start();
        H2TestClient c = client();
        H2TestClient.Stream noPath = c.open();
        noPath.headers(new DefaultHttp2Headers().method("CONNECT").scheme("http").authority("test.local")
                .add(":protocol", "websocket"), false);
        assertThat(noPath.get().rstCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        H2TestClient.Stream noScheme = c.open();
        noScheme.headers(new DefaultHttp2Headers().method("CONNECT").path("/chat").authority("test.local")
                .add(":protocol", "websocket"), false);
        assertThat(noScheme.get().rstCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        assertThat(h2("rx_messaging_error")).isEqualTo(2);
        assertThat(cfg.counter("downstream_cx_upgrades_total")).isZero();
    }

    @Test
    void aStreamErrorFoundByTheCodecIsAProtocolErrorNotADownstreamReset() throws Exception {
        start();
        H2TestClient c = client();
        H2TestClient.Stream s = c.open();
        s.headers(H2TestClient.request("POST", "/echo").add("content-length", "10"), false).sync();
        s.data("abc", true); // 3 bytes, not the 10 announced
        assertThat(s.get().rstCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
        waitFor(() -> cfg.completed.size() == 1);
        assertThat(cfg.completed.get(0).flags()).isEqualTo("DPE");
        assertThat(h2("rx_messaging_error")).isEqualTo(1);
        assertThat(cfg.counter("downstream_rq_rx_reset")).isZero();
        assertThat(h2("tx_reset")).isEqualTo(1);
        H2TestClient.Stream ok = c.open();
        ok.headers(H2TestClient.request("GET", "/fine"), true);
        assertThat(ok.get().status()).isEqualTo(200);
    }

    @Test
    void oversizedHeadersResetTheStreamOnly() throws Exception {
        cfg.maxHeadersCount = 10;
        start();
        H2TestClient c = client();
        H2TestClient.Stream big = c.open();
        Http2Headers h = H2TestClient.request("GET", "/big");
        for (int i = 0; i < 20; i++) {
            h.add("x-h" + i, "v");
        }
        big.headers(h, true);
        H2TestClient.Response r = big.get();
        assertThat(r.rstCode()).isEqualTo(Http2Error.INTERNAL_ERROR.code());
        assertThat(h2("header_overflow")).isEqualTo(1);

        H2TestClient.Stream ok = c.open();
        ok.headers(H2TestClient.request("GET", "/fine"), true);
        assertThat(ok.get().status()).isEqualTo(200);
    }

    private static int streamWindow(H2TestClient c, H2TestClient.Stream s) {
        try {
            return c.channel.eventLoop().submit(() -> c.codec.connection().remote().flowController()
                    .windowSize(c.codec.connection().stream(s.ch.stream().id()))).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 100 && !condition.getAsBoolean(); i++) {
            Thread.sleep(20);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}
