package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.Cancellable;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import dev.legate.host.event.NettyDispatcher;
import dev.legate.host.event.Transports;
import dev.legate.host.http.NettyHeaderMap;
import dev.legate.host.stats.StatsStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP/2 pool against a real h2c origin on loopback, on a real worker loop. */
class Http2ConnectionPoolTest {

    private static final String H2 = """
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                %s
                explicit_http_config: {http2_protocol_options: {%s}}
            """;

    private static EventLoopGroup workers;
    private static EventLoop loop;
    private TestHttp2Server origin;
    private StatsStore stats;
    private ClusterManagerImpl cm;

    @BeforeAll
    static void startLoops() {
        workers = Transports.newGroup(1, "h2-pool-test");
        loop = workers.next();
    }

    @AfterAll
    static void stopLoops() throws InterruptedException {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        UpstreamTestSupport.assertNoLeaks();
    }

    @BeforeEach
    void setUp() {
        stats = new StatsStore();
    }

    @AfterEach
    void stop() {
        if (cm != null) {
            cm.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private UpstreamCluster cluster(int port, String h2Options, String extra) {
        return cluster(port, "", h2Options, extra);
    }

    private UpstreamCluster cluster(int port, String common, String h2Options, String extra) {
        cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                name: origin
                connect_timeout: 2s
                %s
                %s
                load_assignment:
                  cluster_name: origin
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(H2.formatted(common, h2Options), extra, port))), stats, workers);
        cm.start();
        return cm.cluster("origin");
    }

    /** One request: its events, recorded on the loop. */
    static class Exchange implements UpstreamResponseHandler, HttpConnectionPool.PoolCallbacks {
        final String method;
        final String path;
        final String body;
        String requestTrailer;
        /** Writes nothing in onPoolReady; the test calls onPoolReady again after clearing it. */
        volatile boolean deferred;
        /** Ends the request with empty trailers (after the body). */
        boolean emptyTrailers;
        final List<String[]> extraTrailers = new ArrayList<>();
        boolean readDisabled;
        /** When > 0: the body is this many 16 KiB chunks of zeros, written at once. */
        int bodyChunks;
        final java.util.concurrent.atomic.AtomicInteger above = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger below = new java.util.concurrent.atomic.AtomicInteger();
        volatile boolean writableAfterBody;
        final List<String[]> extraHeaders = new ArrayList<>();
        final CompletableFuture<String> done = new CompletableFuture<>();
        final CompletableFuture<UpstreamHttpStream> ready = new CompletableFuture<>();
        final StringBuilder received = new StringBuilder();
        final AtomicLong receivedBytes = new AtomicLong();
        HeaderMap responseHeaders;
        int status;
        Cancellable handle;

        Exchange(String method, String path, String body) {
            this.method = method;
            this.path = path;
            this.body = body;
        }

        @Override
        public void onPoolReady(UpstreamHttpStream stream, Host host) {
            assertThat(loop.inEventLoop()).isTrue();
            ready.complete(stream);
            if (deferred) {
                return;
            }
            if (readDisabled) {
                stream.readDisable(true);
            }
            HeaderMap h = new NettyHeaderMap();
            h.set(HeaderMap.METHOD, method).set(HeaderMap.PATH, path).set(HeaderMap.AUTHORITY, "origin");
            for (String[] x : extraHeaders) {
                h.add(x[0], x[1]);
            }
            if (bodyChunks > 0) {
                stream.encodeHeaders(h, false);
                for (int i = 0; i < bodyChunks; i++) {
                    stream.encodeData(Unpooled.wrappedBuffer(new byte[16 * 1024]), i == bodyChunks - 1);
                }
                writableAfterBody = stream.isWritable();
                return;
            }
            if (body == null) {
                stream.encodeHeaders(h, true);
                return;
            }
            stream.encodeHeaders(h, false);
            boolean trailers = requestTrailer != null || emptyTrailers;
            stream.encodeData(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8), !trailers);
            if (trailers) {
                HeaderMap t = new NettyHeaderMap();
                if (requestTrailer != null) {
                    t.set("x-t", requestTrailer);
                }
                for (String[] x : extraTrailers) {
                    t.add(x[0], x[1]);
                }
                stream.encodeTrailers(t);
            }
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            done.complete("failure " + reason + " " + transportFailure);
        }

        @Override
        public void onHeaders(HeaderMap headers, boolean endStream) {
            responseHeaders = headers;
            status = headers.status();
            if (endStream) {
                done.complete(status + " ");
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            receivedBytes.addAndGet(data.readableBytes());
            if (receivedBytes.get() < 4096) {
                received.append(data.toString(StandardCharsets.UTF_8));
            }
            data.release();
            if (endStream) {
                done.complete(status + " " + received);
            }
        }

        @Override
        public void onTrailers(HeaderMap trailers) {
            done.complete(status + " " + received + " trailer x-t=" + trailers.get("x-t"));
        }

        @Override
        public void onReset(ResetReason reason, String transportFailure) {
            done.complete("reset " + reason);
        }

        @Override
        public void onAboveWriteBufferHighWatermark() {
            above.incrementAndGet();
        }

        @Override
        public void onBelowWriteBufferLowWatermark() {
            below.incrementAndGet();
        }
    }

    private Exchange start(UpstreamCluster c, Exchange ex) throws Exception {
        loop.submit(() -> {
            Host host = c.chooseHost(LoadBalancerContext.NONE);
            ex.handle = c.httpConnectionPool(host, new NettyDispatcher(loop)).newStream(ex, ex);
        }).get(5, TimeUnit.SECONDS);
        return ex;
    }

    private String send(UpstreamCluster c, String method, String path, String body) throws Exception {
        return start(c, new Exchange(method, path, body)).done.get(5, TimeUnit.SECONDS);
    }

    private List<Exchange> hold(UpstreamCluster c, int n) throws Exception {
        List<Exchange> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(start(c, new Exchange("GET", "/hold", null)));
        }
        return out;
    }

    @Test
    void oneConnectionCarriesManyConcurrentStreams() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        List<Exchange> held = hold(c, 10);
        waitFor(() -> origin.heldCount() == 10);
        origin.releaseHeld();
        for (Exchange e : held) {
            assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        }
        assertThat(held.get(0).responseHeaders.get("x-method")).isEqualTo("GET");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(origin.maxOpen.get()).isEqualTo(10);
        assertThat(stats.counter("cluster.origin.upstream_cx_total")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_http2_total")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_http1_total")).isZero();
        assertThat(stats.counter("cluster.origin.upstream_cx_rx_bytes_total")).isPositive();
        waitFor(() -> stats.gauge("cluster.origin.http2.streams_active") == 0);
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText())
                .contains("origin::127.0.0.1:" + port + "::rq_total::10\n")
                .contains("origin::127.0.0.1:" + port + "::rq_success::10\n")
                .contains("origin::127.0.0.1:" + port + "::rq_active::0\n");
    }

    @Test
    void requestHeadersAreHttp2AndTrailersFlowBothWays() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        Exchange e = new Exchange("POST", "/grpc", "body");
        e.requestTrailer = "abc";
        e.extraHeaders.add(new String[] {"te", "trailers"});
        e.extraHeaders.add(new String[] {"connection", "keep-alive"});
        e.extraHeaders.add(new String[] {"keep-alive", "timeout=5"});
        e.extraHeaders.add(new String[] {"transfer-encoding", "chunked"});
        assertThat(start(c, e).done.get(5, TimeUnit.SECONDS)).isEqualTo("200 POST /grpc body trailer x-t=abc");
        assertThat(origin.requests).containsExactly(
                "POST /grpc body trailer x-t=abc te=trailers connection=null authority=origin scheme=http");
        assertThat(send(c, "GET", "/trailers", null)).isEqualTo("200 GET /trailers  trailer x-t=done");
        assertThat(stats.counter("cluster.origin.http2.trailers")).isEqualTo(2); // both responses had trailers
        assertThat(send(c, "GET", "/100", null)).isEqualTo("200 GET /100 ");
        Exchange te = new Exchange("GET", "/te", null);
        te.extraHeaders.add(new String[] {"te", "gzip"});
        assertThat(start(c, te).done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /te ");
        assertThat(origin.requests.get(origin.requests.size() - 1)).contains("te=null");
    }

    @Test
    void ourMaxConcurrentStreamsOpensASecondConnection() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "max_concurrent_streams: 2", "");
        List<Exchange> held = hold(c, 3);
        waitFor(() -> origin.heldCount() == 3);
        assertThat(origin.connections.get()).isEqualTo(2);
        origin.releaseHeld();
        for (Exchange e : held) {
            assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        }
        assertThat(stats.counter("cluster.origin.upstream_cx_http2_total")).isEqualTo(2);
    }

    @Test
    void peerSettingsMaxConcurrentStreamsOpensASecondConnection() throws Exception {
        origin = new TestHttp2Server(1);
        UpstreamCluster c = cluster(origin.port(), "", "");
        assertThat(send(c, "GET", "/first", null)).isEqualTo("200 GET /first ");
        List<Exchange> held = hold(c, 2);
        waitFor(() -> origin.heldCount() == 2);
        assertThat(origin.connections.get()).isEqualTo(2);
        origin.releaseHeld();
        for (Exchange e : held) {
            assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        }
    }

    @Test
    void maxConnectionsKeepsRequestsPendingUntilMaxPendingRequestsOverflows() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "max_concurrent_streams: 1",
                "circuit_breakers: {thresholds: [{max_connections: 1, max_pending_requests: 1}]}");
        Exchange first = start(c, new Exchange("GET", "/hold", null));
        first.ready.get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 1);
        Exchange second = start(c, new Exchange("GET", "/second", null));
        Exchange third = start(c, new Exchange("GET", "/third", null));
        assertThat(third.done.get(5, TimeUnit.SECONDS)).isEqualTo("failure OVERFLOW ");
        assertThat(second.done).isNotDone();
        assertThat(stats.counter("cluster.origin.upstream_rq_pending_overflow")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_overflow")).isEqualTo(1);
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        assertThat(second.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /second ");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
    }

    @Test
    void goAwayRefusesNewerStreamsAndRetiresTheConnection() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        Exchange held = start(c, new Exchange("GET", "/hold", null));
        waitFor(() -> origin.heldCount() == 1);
        assertThat(send(c, "GET", "/goaway", null)).isEqualTo("reset REMOTE_REFUSED_STREAM_RESET");
        assertThat(stats.counter("cluster.origin.http2.stream_refused_errors")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_close_notify")).isEqualTo(1);
        // The GOAWAY'd connection takes no new stream: this one opens a second connection.
        assertThat(send(c, "GET", "/next", null)).isEqualTo("200 GET /next ");
        assertThat(origin.connections.get()).isEqualTo(2);
        // The stream below the last-stream-id finishes, then the old connection closes.
        origin.releaseHeld();
        assertThat(held.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 1);
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_local")).isEqualTo(1);
    }

    @Test
    void resetStreamFromOriginResetsOnlyThatStream() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        assertThat(send(c, "GET", "/rst", null)).isEqualTo("reset REMOTE_RESET");
        assertThat(send(c, "GET", "/refuse", null)).isEqualTo("reset REMOTE_REFUSED_STREAM_RESET");
        assertThat(send(c, "GET", "/after", null)).isEqualTo("200 GET /after ");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.http2.rx_reset")).isEqualTo(2);
        assertThat(stats.counter("cluster.origin.http2.stream_refused_errors")).isEqualTo(1);
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText()).contains("origin::127.0.0.1:" + port + "::rq_error::2\n");
    }

    @Test
    void responseHeadersAbove60KiBResetTheStreamAsAProtocolError() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        assertThat(send(c, "GET", "/bigheader", null)).isEqualTo("reset PROTOCOL_ERROR");
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText()).contains("origin::127.0.0.1:" + port + "::rq_error::1\n");
        waitFor(() -> stats.gauge("cluster.origin.http2.streams_active") == 0);
    }

    @Test
    void resetSendsRstStreamAndTheConnectionSurvives() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        Exchange held = start(c, new Exchange("GET", "/hold", null));
        UpstreamHttpStream s = held.ready.get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 1);
        loop.submit(s::reset).get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.resetsReceived.get() == 1);
        assertThat(send(c, "GET", "/next", null)).isEqualTo("200 GET /next ");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(held.done).isNotDone();
        Thread.sleep(100); // settle: a second RST_STREAM for the same reset would have arrived by now
        assertThat(origin.rstFramesReceived.get()).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.http2.tx_reset")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_protocol_error")).isZero();
        waitFor(() -> stats.gauge("cluster.origin.http2.streams_active") == 0);
    }

    @Test
    void readDisableStopsReturningTheStreamWindow() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "initial_stream_window_size: 65535", "");
        Exchange e = new Exchange("GET", "/big", null);
        e.readDisabled = true;
        start(c, e);
        waitFor(() -> origin.bigBytesWritten.get() >= 3 * 16 * 1024);
        Thread.sleep(300);
        assertThat(origin.bigBytesWritten.get()).isLessThanOrEqualTo(65535);
        assertThat(e.receivedBytes.get()).isZero();
        UpstreamHttpStream s = e.ready.get(5, TimeUnit.SECONDS);
        loop.submit(() -> s.readDisable(false)).get(5, TimeUnit.SECONDS);
        assertThat(e.done.get(5, TimeUnit.SECONDS)).startsWith("200 ");
        assertThat(e.receivedBytes.get()).isEqualTo(TestHttp2Server.BIG);
        waitFor(() -> origin.bigBytesWritten.get() == TestHttp2Server.BIG); // the origin's write listeners lag
    }

    @Test
    void writeBackPressureFollowsThePeersStreamWindow() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "", "per_connection_buffer_limit_bytes: 65536");
        Exchange e = new Exchange("POST", "/sink", null);
        e.bodyChunks = 32; // 512 KiB against the origin's 65535-byte stream window, which it does not return
        start(c, e);
        waitFor(() -> e.above.get() == 1);
        assertThat(e.writableAfterBody).isFalse();
        Thread.sleep(200);
        assertThat(origin.sinkBytes.get()).isLessThanOrEqualTo(65535);
        assertThat(e.below.get()).isZero();
        origin.releaseSinks();
        assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 POST /sink sink 524288");
        assertThat(e.below.get()).isEqualTo(1);
    }

    @Test
    void upgradeRequestBecomesExtendedConnectAnd200Becomes101() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        Exchange e = new Exchange("GET", "/ws", null);
        e.extraHeaders.add(new String[] {"upgrade", "websocket"});
        e.extraHeaders.add(new String[] {"connection", "Upgrade"});
        e.extraHeaders.add(new String[] {"content-length", "0"});
        e.extraHeaders.add(new String[] {"sec-websocket-version", "13"});
        assertThat(start(c, e).done.get(5, TimeUnit.SECONDS)).isEqualTo("101 CONNECT+websocket /ws ");
        assertThat(e.responseHeaders.get("upgrade")).isEqualTo("websocket");
        assertThat(e.responseHeaders.get("connection")).isEqualTo("upgrade");
        assertThat(origin.requests).containsExactly(
                "CONNECT+websocket /ws  te=null connection=null authority=origin scheme=http");
    }

    @Test
    void connectFailureFailsEveryPendingRequest() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        UpstreamCluster c = cluster(closedPort, "", "");
        Exchange a = new Exchange("GET", "/a", null);
        Exchange b = new Exchange("GET", "/b", null);
        loop.submit(() -> {
            Host host = c.chooseHost(LoadBalancerContext.NONE);
            HttpConnectionPool pool = c.httpConnectionPool(host, new NettyDispatcher(loop));
            pool.newStream(a, a);
            pool.newStream(b, b);
        }).get(5, TimeUnit.SECONDS);
        assertThat(a.done.get(5, TimeUnit.SECONDS)).startsWith("failure REMOTE_CONNECTION_FAILURE delayed connect error: ");
        assertThat(b.done.get(5, TimeUnit.SECONDS)).startsWith("failure REMOTE_CONNECTION_FAILURE");
        assertThat(stats.counter("cluster.origin.upstream_cx_connect_fail")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_rq_pending_failure_eject")).isEqualTo(2);
        assertThat(stats.gauge("cluster.origin.upstream_cx_active")).isZero();
    }

    @Test
    void idleTimeoutAndMaxRequestsPerConnectionRetireConnections() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(),
                "common_http_protocol_options: {idle_timeout: 0.3s, max_requests_per_connection: 2}", "", "");
        for (int i = 0; i < 4; i++) {
            assertThat(send(c, "GET", "/" + i, null)).isEqualTo("200 GET /" + i + " ");
        }
        assertThat(origin.connections.get()).isEqualTo(2);
        assertThat(stats.counter("cluster.origin.upstream_cx_max_requests")).isEqualTo(2);
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        assertThat(send(c, "GET", "/a", null)).isEqualTo("200 GET /a ");
        waitFor(() -> stats.counter("cluster.origin.upstream_cx_idle_timeout") == 1);
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
    }

    @Test
    void beforeThePeersSettingsAConnectionTakesAtMost100StreamsAndTheRestWaitInThePool() throws Exception {
        origin = new TestHttp2Server(100);
        UpstreamCluster c = cluster(origin.port(), "", "circuit_breakers: {thresholds: [{max_connections: 1}]}");
        List<Exchange> held = new ArrayList<>();
        Exchange cancelled = new Exchange("GET", "/cancelled", null);
        loop.submit(() -> {
            Host host = c.chooseHost(LoadBalancerContext.NONE);
            HttpConnectionPool pool = c.httpConnectionPool(host, new NettyDispatcher(loop));
            for (int i = 0; i < 105; i++) {
                Exchange e = new Exchange("GET", "/hold", null);
                e.handle = pool.newStream(e, e);
                held.add(e);
                if (i == 102) {
                    cancelled.handle = pool.newStream(cancelled, cancelled);
                }
            }
        }).get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 100);
        // The peer's SETTINGS (100) arrived after the first 100 streams were open: the rest still wait here.
        waitFor(() -> stats.gauge("cluster.origin.upstream_rq_pending_active") == 6);
        loop.submit(() -> cancelled.handle.cancel()).get(5, TimeUnit.SECONDS);
        assertThat(stats.counter("cluster.origin.upstream_rq_cancelled")).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isEqualTo(5);
        origin.releaseHeld();
        waitFor(() -> origin.heldCount() == 5);
        origin.releaseHeld();
        for (Exchange e : held) {
            assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        }
        assertThat(origin.maxOpen.get()).isEqualTo(100);
        assertThat(origin.paths).doesNotContain("/cancelled").hasSize(105);
        assertThat(cancelled.done).isNotDone();
        assertThat(stats.counter("cluster.origin.http2.stream_refused_errors")).isZero();
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
        assertThat(origin.connections.get()).isEqualTo(1);
    }

    @Test
    void aConnectionWhosePendingRequestWasCancelledWhileConnectingStillIdlesOut() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "common_http_protocol_options: {idle_timeout: 0.2s}", "", "");
        Exchange e = new Exchange("GET", "/never", null);
        loop.submit(() -> {
            Host host = c.chooseHost(LoadBalancerContext.NONE);
            e.handle = c.httpConnectionPool(host, new NettyDispatcher(loop)).newStream(e, e);
            e.handle.cancel();
        }).get(5, TimeUnit.SECONDS);
        assertThat(stats.counter("cluster.origin.upstream_rq_cancelled")).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
        waitFor(() -> stats.counter("cluster.origin.upstream_cx_idle_timeout") == 1);
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        assertThat(origin.paths).isEmpty();
        assertThat(e.done).isNotDone();
    }

    @Test
    void emptyRequestTrailersEndTheStreamWithEmptyDataAndConnectionHeadersAreStripped() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        Exchange empty = new Exchange("POST", "/e", "body");
        empty.emptyTrailers = true;
        assertThat(start(c, empty).done.get(5, TimeUnit.SECONDS)).isEqualTo("200 POST /e body");
        assertThat(origin.requests.get(0)).startsWith("POST /e body te=null");
        Exchange conn = new Exchange("POST", "/t", "body");
        conn.requestTrailer = "abc";
        conn.extraTrailers.add(new String[] {"connection", "close"});
        conn.extraTrailers.add(new String[] {"transfer-encoding", "chunked"});
        assertThat(start(c, conn).done.get(5, TimeUnit.SECONDS)).isEqualTo("200 POST /t body trailer x-t=abc");
        assertThat(stats.counter("cluster.origin.http2.rx_reset")).isZero();
    }

    /**
     * A stream opened while the peer allowed it, whose HEADERS were written after the peer lowered its limit, is
     * held by Netty's stream-buffering encoder; the peer's GOAWAY then fails it there: refused, never sent.
     */
    @Test
    void aStreamHeldByNettyWhenGoAwayArrivesIsRefused() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        assertThat(send(c, "GET", "/warm", null)).isEqualTo("200 GET /warm ");
        Exchange late = new Exchange("GET", "/late", null);
        late.deferred = true;
        startOnOneConnection(c, new Exchange("GET", "/lower", null), late);
        UpstreamHttpStream s = late.ready.get(5, TimeUnit.SECONDS);
        waitFor(() -> peerAllowsOneStream(s)); // the lowered SETTINGS were applied here
        late.deferred = false;
        loop.submit(() -> late.onPoolReady(s, null)).get(5, TimeUnit.SECONDS);
        origin.goAwayAfterLower();
        assertThat(late.done.get(5, TimeUnit.SECONDS)).isEqualTo("reset REMOTE_REFUSED_STREAM_RESET");
        assertThat(stats.counter("cluster.origin.http2.stream_refused_errors")).isEqualTo(1);
        assertThat(origin.paths).containsExactly("/warm", "/lower");
    }

    /** A stream held by Netty's stream-buffering encoder and then reset never reaches the origin. */
    @Test
    void aStreamHeldByNettyAndResetIsNeverSent() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        assertThat(send(c, "GET", "/warm", null)).isEqualTo("200 GET /warm ");
        Exchange first = new Exchange("GET", "/lowerhold", null);
        Exchange late = new Exchange("GET", "/late", null);
        late.deferred = true;
        startOnOneConnection(c, first, late);
        UpstreamHttpStream s = late.ready.get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 1);
        waitFor(() -> peerAllowsOneStream(s)); // the lowered SETTINGS were applied here
        late.deferred = false;
        loop.submit(() -> {
            late.onPoolReady(s, null); // held by Netty: the peer allows 1 stream
            s.reset();
        }).get(5, TimeUnit.SECONDS);
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /lowerhold ");
        assertThat(send(c, "GET", "/after", null)).isEqualTo("200 GET /after ");
        assertThat(origin.paths).containsExactly("/warm", "/lowerhold", "/after");
        assertThat(late.done).isNotDone();
        assertThat(stats.counter("cluster.origin.http2.tx_reset")).isZero();
        waitFor(() -> stats.gauge("cluster.origin.http2.streams_active") == 0);
    }

    @Test
    void cancellingAPendingRequestCountsItAndFreesItsSlot() throws Exception {
        UpstreamCluster c = oneStreamAtATime();
        Exchange first = start(c, new Exchange("GET", "/hold", null));
        waitFor(() -> origin.heldCount() == 1);
        Exchange second = start(c, new Exchange("GET", "/second", null)); // pending: the one stream is taken
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isEqualTo(1);
        second.handle.cancel(); // off the loop: posted to it
        waitFor(() -> stats.counter("cluster.origin.upstream_rq_cancelled") == 1);
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        assertThat(send(c, "GET", "/third", null)).isEqualTo("200 GET /third ");
        assertThat(origin.paths).containsExactly("/hold", "/third");
        assertThat(second.done).isNotDone();
    }

    @Test
    void drainFailsPendingRequestsAndClosesTheConnectionAfterItsLastStream() throws Exception {
        UpstreamCluster c = oneStreamAtATime();
        Exchange first = start(c, new Exchange("GET", "/hold", null));
        waitFor(() -> origin.heldCount() == 1);
        Exchange second = start(c, new Exchange("GET", "/second", null)); // pending: the one stream is taken
        loop.submit(() -> ((Http2ConnectionPoolImpl) c.httpConnectionPool(c.chooseHost(LoadBalancerContext.NONE),
                new NettyDispatcher(loop))).drain()).get(5, TimeUnit.SECONDS);
        assertThat(second.done.get(5, TimeUnit.SECONDS)).isEqualTo("failure CONNECTION_TERMINATION ");
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
        assertThat(stats.gauge("cluster.origin.upstream_cx_active")).isEqualTo(1);
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_local")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_with_active_rq")).isZero();
    }

    @Test
    void theOriginDyingMidStreamResetsEachStreamOnce() throws Exception {
        origin = new TestHttp2Server(0);
        UpstreamCluster c = cluster(origin.port(), "", "");
        List<ResetCounter> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add((ResetCounter) start(c, new ResetCounter("/hold")));
        }
        waitFor(() -> origin.heldCount() == 3);
        assertThat(send(c, "GET", "/die", null)).isEqualTo("reset CONNECTION_TERMINATION");
        for (ResetCounter e : held) {
            assertThat(e.done.get(5, TimeUnit.SECONDS)).isEqualTo("reset CONNECTION_TERMINATION");
        }
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        Thread.sleep(50);
        for (ResetCounter e : held) {
            assertThat(e.resets.get()).isEqualTo(1);
        }
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_with_active_rq")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_remote")).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.http2.streams_active")).isZero();
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText()).contains("origin::127.0.0.1:" + port + "::rq_error::4\n")
                .contains("origin::127.0.0.1:" + port + "::rq_active::0\n");
    }

    /** An exchange that counts its resets. */
    static final class ResetCounter extends Exchange {
        final java.util.concurrent.atomic.AtomicInteger resets = new java.util.concurrent.atomic.AtomicInteger();

        ResetCounter(String path) {
            super("GET", path, null);
        }

        @Override
        public void onReset(ResetReason reason, String transportFailure) {
            resets.incrementAndGet();
            super.onReset(reason, transportFailure);
        }
    }

    /** A new origin and a cluster of one connection (max_connections 1) of one stream (max_concurrent_streams 1). */
    private UpstreamCluster oneStreamAtATime() {
        origin = new TestHttp2Server(0);
        return cluster(origin.port(), "max_concurrent_streams: 1", "circuit_breakers: {thresholds: [{max_connections: 1}]}");
    }

    /** Starts both in one loop task, so the peer's SETTINGS cannot send the second to another connection. */
    private static void startOnOneConnection(UpstreamCluster c, Exchange a, Exchange b) throws Exception {
        loop.submit(() -> {
            HttpConnectionPool pool = c.httpConnectionPool(c.chooseHost(LoadBalancerContext.NONE), new NettyDispatcher(loop));
            a.handle = pool.newStream(a, a);
            b.handle = pool.newStream(b, b);
        }).get(5, TimeUnit.SECONDS);
    }

    /** Whether the connection of {@code s} applied the peer's SETTINGS_MAX_CONCURRENT_STREAMS 1 (read on the loop). */
    private static boolean peerAllowsOneStream(UpstreamHttpStream s) {
        try {
            return loop.submit(() -> ((Http2Connection.Stream) s).child.parent().pipeline()
                    .get(io.netty.handler.codec.http2.Http2FrameCodec.class).connection().local().maxActiveStreams() == 1)
                    .get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in 5 s");
            }
            Thread.sleep(5);
        }
    }
}
