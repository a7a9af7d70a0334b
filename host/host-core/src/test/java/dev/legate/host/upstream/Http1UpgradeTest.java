package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Upgrades on the upstream HTTP/1.1 connection against a raw socket server on loopback: the request goes out
 * unframed, a 101 turns the connection into a byte tunnel (bytes that arrived with the 101 included), the end of
 * the request half-closes, the server's close ends the response, and the connection is never reused.
 */
class Http1UpgradeTest {

    private static EventLoopGroup workers;
    private static EventLoop loop;
    private StatsStore stats;
    private ClusterManagerImpl cm;
    private ServerSocket origin;

    @BeforeAll
    static void startLoops() {
        workers = Transports.newGroup(1, "upgrade-test");
        loop = workers.next();
    }

    @AfterAll
    static void stopLoops() throws InterruptedException {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        UpstreamTestSupport.assertNoLeaks();
    }

    @AfterEach
    void stop() throws Exception {
        if (cm != null) {
            cm.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private UpstreamCluster cluster(int port) {
        stats = new StatsStore();
        cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                name: origin
                connect_timeout: 2s
                load_assignment:
                  cluster_name: origin
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(port))), stats, workers);
        cm.start();
        return cm.cluster("origin");
    }

    /** Records the response on the loop; sends {@code first} as soon as the stream is ready. */
    static final class Tunnel implements UpstreamResponseHandler, HttpConnectionPool.PoolCallbacks {
        final CompletableFuture<UpstreamHttpStream> ready = new CompletableFuture<>();
        final CompletableFuture<Integer> headers = new CompletableFuture<>();
        final CompletableFuture<String> done = new CompletableFuture<>();
        final StringBuffer received = new StringBuffer();
        /** The {@code upgrade} header to send, or {@code null} for a request that asks for no upgrade. */
        final String upgrade;

        Tunnel() {
            this("websocket");
        }

        Tunnel(String upgrade) {
            this.upgrade = upgrade;
        }

        @Override
        public void onPoolReady(UpstreamHttpStream stream, Host host) {
            HeaderMap h = new NettyHeaderMap();
            h.set(HeaderMap.METHOD, "GET").set(HeaderMap.PATH, "/chat").set(HeaderMap.AUTHORITY, "origin");
            if (upgrade != null) {
                h.set("connection", "Upgrade").set("upgrade", upgrade);
            }
            stream.encodeHeaders(h, false);
            stream.encodeData(Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII), false);
            ready.complete(stream);
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            done.complete("failure " + reason);
        }

        @Override
        public void onHeaders(HeaderMap h, boolean endStream) {
            headers.complete(h.status());
            if (endStream) {
                done.complete(h.status() + "|");
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            received.append(data.toString(StandardCharsets.ISO_8859_1));
            data.release();
            if (endStream) {
                done.complete(headers.getNow(0) + "|" + received);
            }
        }

        @Override
        public void onTrailers(HeaderMap trailers) {
        }

        @Override
        public void onReset(ResetReason reason, String transportFailure) {
            done.complete("reset " + reason);
        }
    }

    /** Reads the request head (through the blank line) byte by byte, so nothing after it is consumed. */
    private static String readHead(InputStream in) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static String readN(InputStream in, int n) throws Exception {
        return new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    @Test
    void switchingProtocolsTurnsTheConnectionIntoATunnel() throws Exception {
        origin = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        CompletableFuture<String> serverSaw = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (Socket s = origin.accept()) {
                s.setSoTimeout(5000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                String head = readHead(in);
                String first = readN(in, 5);
                // The 101 and the first tunnel bytes in one segment: they must not be lost with the codec.
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                        + "EARLY").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                String second = readN(in, 6);
                out.write(("<" + second + ">").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                int eof = in.read(); // the proxy's half-close
                out.write("bye".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                serverSaw.complete(head + "|" + first + "|" + second + "|" + eof);
            } catch (Exception e) {
                serverSaw.completeExceptionally(e);
            }
        });
        t.start();
        UpstreamCluster c = cluster(origin.getLocalPort());
        Tunnel tunnel = new Tunnel();
        loop.submit(() -> c.httpConnectionPool(c.chooseHost(LoadBalancerContext.NONE), new NettyDispatcher(loop))
                .newStream(tunnel, tunnel)).get(5, TimeUnit.SECONDS);
        assertThat(tunnel.headers.get(5, TimeUnit.SECONDS)).isEqualTo(101);
        UpstreamHttpStream stream = tunnel.ready.get(5, TimeUnit.SECONDS);
        loop.submit(() -> stream.encodeData(Unpooled.copiedBuffer("second", StandardCharsets.US_ASCII), false))
                .get(5, TimeUnit.SECONDS);
        waitFor(() -> tunnel.received.toString().equals("EARLY<second>"));
        loop.submit(() -> stream.encodeData(Unpooled.EMPTY_BUFFER, true)).get(5, TimeUnit.SECONDS);

        assertThat(tunnel.done.get(5, TimeUnit.SECONDS)).isEqualTo("101|EARLY<second>bye");
        String saw = serverSaw.get(5, TimeUnit.SECONDS);
        assertThat(saw).startsWith("GET /chat HTTP/1.1\r\n").containsIgnoringCase("upgrade: websocket\r\n")
                .containsIgnoringCase("connection: Upgrade\r\n").doesNotContainIgnoringCase("transfer-encoding")
                .doesNotContainIgnoringCase("content-length").endsWith("\r\n\r\n|first|second|-1");
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        assertThat(stats.counter("cluster.origin.upstream_cx_total")).isEqualTo(1);
    }

    @Test
    void aRefusedUpgradeIsAnOrdinaryResponseAndTheConnectionCloses() throws Exception {
        origin = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try (Socket s = origin.accept()) {
                s.setSoTimeout(5000);
                readHead(s.getInputStream());
                s.getOutputStream().write("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"
                        .getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                s.getInputStream().read(new byte[64]); // until the proxy closes
            } catch (Exception ignored) {
                // the assertions report it
            }
        });
        t.start();
        UpstreamCluster c = cluster(origin.getLocalPort());
        Tunnel tunnel = new Tunnel();
        loop.submit(() -> c.httpConnectionPool(c.chooseHost(LoadBalancerContext.NONE), new NettyDispatcher(loop))
                .newStream(tunnel, tunnel)).get(5, TimeUnit.SECONDS);
        assertThat(tunnel.done.get(5, TimeUnit.SECONDS)).isEqualTo("403|no");
        waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
        t.join(5000);
    }

    /**
     * A 101 to a request that asked for no upgrade (none at all, or {@code h2c}, which is never a tunnel) resets
     * the stream with PROTOCOL_ERROR (Envoy's ClientConnectionImpl); the h2c request went out framed (chunked).
     */
    @Test
    void switchingProtocolsWithoutAnUpgradeRequestIsAProtocolError() throws Exception {
        for (String upgrade : new String[] {null, "h2c"}) {
            origin = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            CompletableFuture<String> serverSaw = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try (Socket s = origin.accept()) {
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    String head = readHead(in);
                    String body = upgrade == null ? "" : readN(in, "5\r\nfirst\r\n".length());
                    s.getOutputStream().write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    serverSaw.complete(head + "|" + body);
                    in.read(new byte[64]); // until the proxy closes
                } catch (Exception e) {
                    serverSaw.completeExceptionally(e);
                }
            });
            t.start();
            UpstreamCluster c = cluster(origin.getLocalPort());
            Tunnel tunnel = new Tunnel(upgrade);
            loop.submit(() -> c.httpConnectionPool(c.chooseHost(LoadBalancerContext.NONE), new NettyDispatcher(loop))
                    .newStream(tunnel, tunnel)).get(5, TimeUnit.SECONDS);
            assertThat(tunnel.done.get(5, TimeUnit.SECONDS)).as("upgrade %s", upgrade).isEqualTo("reset PROTOCOL_ERROR");
            assertThat(tunnel.headers).isNotDone();
            if (upgrade != null) {
                assertThat(serverSaw.get(5, TimeUnit.SECONDS)).containsIgnoringCase("transfer-encoding: chunked\r\n")
                        .endsWith("\r\n\r\n|5\r\nfirst\r\n");
            }
            waitFor(() -> stats.gauge("cluster.origin.upstream_cx_active") == 0);
            assertThat(stats.counter("cluster.origin.upstream_cx_protocol_error")).isEqualTo(1);
            t.join(5000);
            cm.close();
            cm = null;
            origin.close();
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!cond.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(cond.getAsBoolean()).isTrue();
    }
}
