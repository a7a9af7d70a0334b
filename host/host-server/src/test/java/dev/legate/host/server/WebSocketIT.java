package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket through Legate with real peers on both sides: the JDK's {@link WebSocket} client and a Netty
 * WebSocket server ({@link WebSocketServerProtocolHandler}). HCM {@code upgrade_configs} enables websocket; one
 * route turns it off, another HCM (without upgrade_configs) has one route that turns it on (Envoy's
 * {@code createUpgradeFilterChain} rules).
 */
class WebSocketIT {

    static final int MAX_MESSAGE = 2 << 20;
    /** The slow-reader flood: far more than every buffer on the way. */
    static final long FLOOD = 96L << 20;
    /**
     * Socket buffers (send and receive, both hops) plus the proxy's 1 MiB watermark and the client's own
     * buffers; without back-pressure the server gets the whole flood out within the pause.
     */
    static final long BOUND = 40L << 20;
    /**
     * The slow-server upload, written by a raw-socket client as fast as loopback takes it (the JDK client sends
     * only a few MB/s, too slow to tell a bounded proxy from an unbounded one).
     */
    static final long SINK = 20L << 20;
    /**
     * What Legate may read from the uploading client while the server reads nothing: its 1 MiB watermark, one
     * read loop past it (up to 1 MiB), the upstream socket's send buffer (autotuned up to tcp_wmem's 4 MiB) and
     * the server's fixed 128 KiB receive buffer (doubled by the kernel): about 6.3 MiB (measured 5.2 MiB).
     * Without back-pressure Legate would read all of SINK, which the raw client writes within milliseconds.
     */
    static final long SINK_BOUND = 8L << 20;

    static EventLoopGroup group;
    static Channel server;
    static Proxy proxy;
    /** Bytes the server's flood wrote so far. */
    static final AtomicLong flooded = new AtomicLong();
    /** Binary bytes the server took in while in sink mode. */
    static final AtomicLong sunk = new AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(io.netty.channel.ChannelOption.SO_RCVBUF, 128 * 1024) // fixed: no autotuning
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/").checkStartsWith(true)
                                        .maxFramePayloadLength(MAX_MESSAGE).build()),
                                new WebSocketFrameAggregator(MAX_MESSAGE), new EchoHandler());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        proxy = new Proxy(config(port));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Echoes text as {@code echo:<text>} and binary as is; text {@code flood} streams {@link #FLOOD} bytes. */
    static final class EchoHandler extends SimpleChannelInboundHandler<WebSocketFrame> {
        private boolean flooding;
        private boolean sink;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame t) {
                if (t.text().equals("pause-sink")) {
                    // Stop reading for 3 s, then take binary frames without echoing them.
                    sink = true;
                    sunk.set(0);
                    ctx.channel().config().setAutoRead(false);
                    ctx.channel().eventLoop().schedule(() -> ctx.channel().config().setAutoRead(true),
                            3, TimeUnit.SECONDS);
                    ctx.writeAndFlush(new TextWebSocketFrame("paused"));
                } else if (t.text().equals("flood")) {
                    flooded.set(0);
                    flood(ctx);
                } else {
                    ctx.writeAndFlush(new TextWebSocketFrame("echo:" + t.text()));
                }
            } else if (frame instanceof BinaryWebSocketFrame b && sink) {
                sunk.addAndGet(b.content().readableBytes());
            } else if (frame instanceof BinaryWebSocketFrame b) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
            }
        }

        /** Writes 64 KiB frames while the channel is writable: a producer that respects back-pressure. */
        private void flood(ChannelHandlerContext ctx) {
            flooding = true; // before the flush below, which may report writability at once
            while (flooded.get() < FLOOD && ctx.channel().isWritable()) {
                ctx.write(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[65536])));
                flooded.addAndGet(65536);
            }
            ctx.flush();
            flooding = flooded.get() < FLOOD;
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (flooding && ctx.channel().isWritable()) {
                flood(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }
    }

    static String config(int port) {
        String cluster = Proxy.staticCluster("ws", "", port);
        String routes = """
                { virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/nows" }, route: { cluster: ws, upgrade_configs: [ { upgrade_type: websocket, enabled: false } ] } },
                  { match: { prefix: "/short" }, route: { cluster: ws, timeout: 1s } },
                  { match: { prefix: "/" }, route: { cluster: ws, timeout: 60s } } ] } ] }""";
        String plainRoutes = """
                { virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/route-ws" }, route: { cluster: ws, upgrade_configs: [ { upgrade_type: WebSocket } ] } },
                  { match: { prefix: "/" }, route: { cluster: ws } } ] } ] }""";
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: ws
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ws
                          upgrade_configs: [ { upgrade_type: websocket } ]
                          route_config: %s
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  - name: plain
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: plain
                          route_config: %s
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s ]
                """.formatted(routes, plainRoutes, cluster);
    }

    /** Collects what the client receives; demand is one message at a time unless {@link #hold}. */
    static final class Collector implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        final AtomicLong binaryBytes = new AtomicLong();
        volatile boolean hold;
        private StringBuilder text = new StringBuilder();
        private java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
        private boolean countOnly;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text = new StringBuilder();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            binaryBytes.addAndGet(data.remaining());
            if (!countOnly) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                binary.writeBytes(b);
                if (last) {
                    messages.add(binary.toByteArray());
                    binary = new java.io.ByteArrayOutputStream();
                }
            }
            if (!hold) {
                ws.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onPong(WebSocket ws, ByteBuffer message) {
            byte[] b = new byte[message.remaining()];
            message.get(b);
            messages.add("pong:" + new String(b, StandardCharsets.UTF_8));
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }

        Object next() throws InterruptedException {
            Object m = messages.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("a message within 10 s").isNotNull();
            return m;
        }
    }

    static WebSocket connect(String listener, String path, Collector c) throws Exception {
        return HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port(listener) + path), c)
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void messagesBothWaysPingAndCloseHandshake() throws Exception {
        long upgradesBefore = proxy.counter("http.ws.downstream_cx_upgrades_total");
        // Tunnels of earlier tests end asynchronously (their close handshakes finish on the proxy's loop).
        awaitActiveUpgrades(0);
        long activeBefore = 0;
        Collector c = new Collector();
        WebSocket ws = connect("ws", "/chat", c);
        ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
        assertThat(c.next()).isEqualTo("echo:hello");

        byte[] big = new byte[1 << 20];
        new Random(42).nextBytes(big);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(10, TimeUnit.SECONDS);
        assertThat((byte[]) c.next()).isEqualTo(big);

        ws.sendPing(ByteBuffer.wrap("p1".getBytes(StandardCharsets.UTF_8))).get(10, TimeUnit.SECONDS);
        assertThat(c.next()).isEqualTo("pong:p1");
        assertThat(proxy.counter("http.ws.downstream_cx_upgrades_total")).isEqualTo(upgradesBefore + 1);
        assertThat(proxy.server.stats().gauge("http.ws.downstream_cx_upgrades_active")).isEqualTo(activeBefore + 1);

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        awaitActiveUpgrades(activeBefore);
    }

    /** Waits (at most 10 s) for {@code downstream_cx_upgrades_active} to read {@code expected}, then asserts it. */
    static void awaitActiveUpgrades(long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (proxy.server.stats().gauge("http.ws.downstream_cx_upgrades_active") != expected
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(proxy.server.stats().gauge("http.ws.downstream_cx_upgrades_active")).isEqualTo(expected);
    }

    @Test
    void aRouteWithWebSocketDisabledAnswers403() throws Exception {
        long before = proxy.counter("http.ws.downstream_rq_ws_on_non_ws_route");
        assertHandshakeFails("ws", "/nows");
        assertThat(proxy.counter("http.ws.downstream_rq_ws_on_non_ws_route")).isEqualTo(before + 1);
    }

    @Test
    void anHcmWithoutUpgradeConfigsAnswers403UnlessTheRouteEnablesWebSocket() throws Exception {
        assertHandshakeFails("plain", "/other");
        Collector c = new Collector();
        WebSocket ws = connect("plain", "/route-ws", c);
        ws.sendText("via route", true).get(10, TimeUnit.SECONDS);
        assertThat(c.next()).isEqualTo("echo:via route");
        ws.abort();
    }

    private static void assertHandshakeFails(String listener, String path) {
        assertThatThrownBy(() -> connect(listener, path, new Collector()))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                        .isEqualTo(403));
    }

    /** Envoy times an upgrade's route timeout until the 101 only: the tunnel lives on past it. */
    @Test
    void theTunnelOutlivesTheRouteTimeout() throws Exception {
        Collector c = new Collector();
        WebSocket ws = connect("ws", "/short", c);
        Thread.sleep(1_500);
        ws.sendText("still here", true).get(10, TimeUnit.SECONDS);
        assertThat(c.next()).isEqualTo("echo:still here");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
        assertThat(c.closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
    }

    /** A server that stops reading stops the client: Legate's buffering stays bounded the other way too. */
    @Test
    void aSlowServerBoundsBuffering() throws Exception {
        long pausedBefore = proxy.counter("http.ws.downstream_flow_control_paused_reading_total");
        try (java.net.Socket sock = new java.net.Socket("127.0.0.1", proxy.port("ws"))) {
            sock.setSoTimeout(10_000);
            java.io.OutputStream out = sock.getOutputStream();
            java.io.InputStream in = sock.getInputStream();
            out.write(("GET /sink HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                assertThat(b).as("the handshake's answer").isNotNegative();
                head.append((char) b);
            }
            assertThat(head.toString()).startsWith("HTTP/1.1 101");
            out.write(clientFrame(0x1, "pause-sink".getBytes(StandardCharsets.US_ASCII)));
            byte[] paused = in.readNBytes(8); // 0x81, 6, "paused"
            assertThat(new String(paused, 2, 6, StandardCharsets.US_ASCII)).isEqualTo("paused");
            long rxBefore = proxy.counter("http.ws.downstream_cx_rx_bytes_total");
            AtomicLong sent = new AtomicLong();
            byte[] frame = clientFrame(0x2, new byte[65536]);
            Thread writer = new Thread(() -> {
                try {
                    for (long left = SINK; left > 0; left -= 65536) {
                        out.write(frame);
                        sent.addAndGet(65536);
                    }
                } catch (java.io.IOException ignored) {
                    // the assertions below report a short upload
                }
            });
            writer.start();
            Thread.sleep(2_000); // the server reads nothing for 3 s
            long readByLegate = proxy.counter("http.ws.downstream_cx_rx_bytes_total") - rxBefore;
            System.out.println("WebSocketIT: bytes Legate read while the server did not: " + readByLegate);
            assertThat(readByLegate).as("bytes Legate read from the client while the server did not read")
                    .isLessThan(SINK_BOUND);
            assertThat(proxy.counter("http.ws.downstream_flow_control_paused_reading_total"))
                    .as("Legate stopped reading the client").isGreaterThan(pausedBefore);
            writer.join(30_000);
            assertThat(sent.get()).isEqualTo(SINK);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (sunk.get() < SINK && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(sunk.get()).isEqualTo(SINK);
        }
    }

    /** A client-to-server WebSocket frame (RFC 6455 §5.2): FIN, {@code opcode}, masked with the all-zero key. */
    private static byte[] clientFrame(int opcode, byte[] payload) {
        java.io.ByteArrayOutputStream f = new java.io.ByteArrayOutputStream(payload.length + 14);
        f.write(0x80 | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else {
            f.write(0x80 | 127);
            f.writeBytes(ByteBuffer.allocate(8).putLong(payload.length).array());
        }
        f.writeBytes(new byte[4]); // masking key 0: the payload goes as is
        f.writeBytes(payload);
        return f.toByteArray();
    }

    /** A client that stops reading stops the server: Legate's buffering stays bounded. */
    @Test
    void aSlowReaderBoundsBuffering() throws Exception {
        Collector c = new Collector();
        c.countOnly = true;
        c.hold = true;
        WebSocket ws = connect("ws", "/flood", c);
        ws.sendText("flood", true).get(10, TimeUnit.SECONDS);
        Thread.sleep(3_000); // the client takes one frame and then reads nothing
        long ahead = flooded.get();
        System.out.println("WebSocketIT: server bytes written while the client did not read: " + ahead);
        assertThat(ahead).as("server bytes written while the client did not read").isLessThan(BOUND);
        c.hold = false;
        ws.request(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (c.binaryBytes.get() < FLOOD && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(c.binaryBytes.get()).isEqualTo(FLOOD);
        ws.abort();
    }
}
