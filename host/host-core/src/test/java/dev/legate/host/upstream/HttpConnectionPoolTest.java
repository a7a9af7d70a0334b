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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 pool against a real origin on loopback, on a real worker loop. */
class HttpConnectionPoolTest {

    private static EventLoopGroup workers;
    private static EventLoop loop;
    private TestHttpServer origin;
    private StatsStore stats;
    private ClusterManagerImpl cm;

    @BeforeAll
    static void startLoops() {
        workers = Transports.newGroup(1, "pool-test");
        loop = workers.next();
    }

    @AfterAll
    static void stopLoops() throws InterruptedException {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        UpstreamTestSupport.assertNoLeaks();
    }

    @BeforeEach
    void startOrigin() {
        origin = new TestHttpServer();
        stats = new StatsStore();
    }

    @AfterEach
    void stop() {
        if (cm != null) {
            cm.close();
        }
        origin.close();
    }

    private UpstreamCluster cluster(int port, String extra) {
        cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                name: origin
                connect_timeout: 2s
                %s
                load_assignment:
                  cluster_name: origin
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(extra, port))), stats, workers);
        cm.start();
        return cm.cluster("origin");
    }

    /** One request: its events, recorded on the loop. */
    static final class Exchange implements UpstreamResponseHandler, HttpConnectionPool.PoolCallbacks {
        final String method;
        final String path;
        final String body;
        final CompletableFuture<String> done = new CompletableFuture<>();
        final CompletableFuture<UpstreamHttpStream> ready = new CompletableFuture<>();
        final StringBuilder received = new StringBuilder();
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
            HeaderMap h = new NettyHeaderMap();
            h.set(HeaderMap.METHOD, method).set(HeaderMap.PATH, path).set(HeaderMap.AUTHORITY, "origin");
            if (body == null) {
                stream.encodeHeaders(h, true);
            } else {
                stream.encodeHeaders(h, false);
                stream.encodeData(Unpooled.copiedBuffer(body, StandardCharsets.UTF_8), true);
            }
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            done.complete("failure " + reason + " " + transportFailure);
        }

        @Override
        public void onHeaders(HeaderMap headers, boolean endStream) {
            status = headers.status();
            if (endStream) {
                done.complete(status + " ");
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            received.append(data.toString(StandardCharsets.UTF_8));
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

    @Test
    void keepAliveReusesOneConnection() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "");
        assertThat(send(c, "GET", "/a", null)).isEqualTo("200 GET /a ");
        assertThat(send(c, "POST", "/b", "hello")).isEqualTo("200 POST /b hello");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_total")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_http1_total")).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.upstream_cx_active")).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_cx_rx_bytes_total")).isPositive();
        assertThat(stats.counter("cluster.origin.upstream_cx_tx_bytes_total")).isPositive();
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText())
                .contains("origin::127.0.0.1:" + port + "::cx_total::1\n")
                .contains("origin::127.0.0.1:" + port + "::rq_total::2\n")
                .contains("origin::127.0.0.1:" + port + "::rq_success::2\n")
                .contains("origin::127.0.0.1:" + port + "::rq_active::0\n");
    }

    @Test
    void connectionCloseAndErrorsAreCounted() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "");
        assertThat(send(c, "GET", "/close", null)).isEqualTo("200 GET /close ");
        assertThat(send(c, "GET", "/500", null)).isEqualTo("500 GET /500 ");
        assertThat(origin.connections.get()).isEqualTo(2);
        String port = String.valueOf(origin.port());
        assertThat(cm.renderClustersText())
                .contains("origin::127.0.0.1:" + port + "::rq_error::1\n")
                .contains("origin::127.0.0.1:" + port + "::rq_success::1\n");
        waitFor(() -> stats.counter("cluster.origin.upstream_cx_destroy_local") == 1);
    }

    @Test
    void chunkedResponsesStreamWithTrailers() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "");
        assertThat(send(c, "GET", "/chunked", null)).isEqualTo("200 part1-part2 trailer x-t=done");
        assertThat(send(c, "HEAD", "/a", null)).isEqualTo("200 ");
        assertThat(origin.connections.get()).isEqualTo(1);
    }

    @Test
    void connectionClosedMidResponseResetsTheStream() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "");
        assertThat(send(c, "GET", "/die", null)).isEqualTo("reset CONNECTION_TERMINATION");
        assertThat(stats.counter("cluster.origin.upstream_cx_destroy_remote")).isEqualTo(1);
        assertThat(send(c, "GET", "/after", null)).isEqualTo("200 GET /after ");
    }

    @Test
    void connectFailureReportsRemoteConnectionFailure() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        UpstreamCluster c = cluster(closedPort, "");
        String result = send(c, "GET", "/", null);
        assertThat(result).startsWith("failure REMOTE_CONNECTION_FAILURE delayed connect error: ")
                .containsIgnoringCase("connection refused");
        assertThat(stats.counter("cluster.origin.upstream_cx_connect_fail")).isEqualTo(1);
        assertThat(stats.gauge("cluster.origin.upstream_cx_active")).isZero();
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
        assertThat(cm.renderClustersText()).contains("origin::127.0.0.1:" + closedPort + "::cx_connect_fail::1\n");
    }

    @Test
    void connectTimeoutReportsConnectionTimeout() throws Exception {
        // A listener whose accept queue is full: the kernel drops further SYNs, so connects hang.
        try (ServerSocket full = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            List<java.net.Socket> fillers = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    java.net.Socket s = new java.net.Socket();
                    try {
                        s.connect(full.getLocalSocketAddress(), 200);
                    } catch (java.io.IOException e) {
                        // the queue is full: what we want
                    }
                    fillers.add(s);
                }
                cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                        name: origin
                        connect_timeout: 0.3s
                        load_assignment:
                          cluster_name: origin
                          endpoints:
                          - lb_endpoints:
                            - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                        """.formatted(full.getLocalPort()))), stats, workers);
                assertThat(send(cm.cluster("origin"), "GET", "/", null)).isEqualTo("failure CONNECTION_TIMEOUT ");
                assertThat(stats.counter("cluster.origin.upstream_cx_connect_timeout")).isEqualTo(1);
                assertThat(stats.counter("cluster.origin.upstream_cx_connect_fail")).isEqualTo(1);
            } finally {
                for (java.net.Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void poolsAreConfinedToTheirLoop() {
        UpstreamCluster c = cluster(origin.port(), "");
        Host host = c.chooseHost(LoadBalancerContext.NONE);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.httpConnectionPool(host, new NettyDispatcher(loop)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void pendingRequestsOverflowAtMaxPendingRequests() throws Exception {
        UpstreamCluster c = cluster(origin.port(),
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
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isEqualTo(1);
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        assertThat(second.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /second ");
        assertThat(origin.connections.get()).isEqualTo(1);
        assertThat(stats.counter("cluster.origin.upstream_rq_pending_total")).isEqualTo(2);
        assertThat(stats.gauge("cluster.origin.upstream_rq_pending_active")).isZero();
    }

    @Test
    void cancelledPendingRequestGetsNoCallback() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "circuit_breakers: {thresholds: [{max_connections: 1}]}");
        Exchange first = start(c, new Exchange("GET", "/hold", null));
        first.ready.get(5, TimeUnit.SECONDS);
        Exchange second = start(c, new Exchange("GET", "/second", null));
        loop.submit(() -> second.handle.cancel()).get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 1);
        origin.releaseHeld();
        assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo("200 GET /hold ");
        assertThat(send(c, "GET", "/third", null)).isEqualTo("200 GET /third ");
        assertThat(second.done).isNotDone();
        assertThat(stats.counter("cluster.origin.upstream_rq_cancelled")).isEqualTo(1);
        assertThat(origin.requests).doesNotContain("GET /second ");
    }

    @Test
    void resetStreamIsNotReused() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "");
        Exchange held = start(c, new Exchange("GET", "/hold", null));
        UpstreamHttpStream s = held.ready.get(5, TimeUnit.SECONDS);
        waitFor(() -> origin.heldCount() == 1);
        loop.submit(s::reset).get(5, TimeUnit.SECONDS);
        assertThat(send(c, "GET", "/next", null)).isEqualTo("200 GET /next ");
        assertThat(origin.connections.get()).isEqualTo(2);
        assertThat(held.done).isNotDone();
        origin.releaseHeld();
    }

    @Test
    void idleConnectionsCloseAfterIdleTimeout() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "common_http_protocol_options: {idle_timeout: 0.2s}");
        assertThat(send(c, "POST", "/a", null)).isEqualTo("200 POST /a ");
        waitFor(() -> stats.counter("cluster.origin.upstream_cx_idle_timeout") == 1);
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        assertThat(send(c, "GET", "/b", null)).isEqualTo("200 GET /b ");
        assertThat(origin.connections.get()).isEqualTo(2);
    }

    @Test
    void maxRequestsPerConnectionRetiresConnections() throws Exception {
        UpstreamCluster c = cluster(origin.port(), "max_requests_per_connection: 2");
        for (int i = 0; i < 4; i++) {
            assertThat(send(c, "GET", "/" + i, null)).isEqualTo("200 GET /" + i + " ");
        }
        assertThat(origin.connections.get()).isEqualTo(2);
        waitFor(() -> stats.counter("cluster.origin.upstream_cx_max_requests") == 2);
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
