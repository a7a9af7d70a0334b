package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upgrades on the downstream HTTP/1.1 codec over a real loopback socket: a terminal test filter answers an
 * upgrade with 101 and echoes the tunnel's bytes, the way the router relays an upstream's.
 */
class Http1UpgradeSocketTest {

    private final TestHttpConfig cfg = new TestHttpConfig();
    /** The request heads the tunnel filter saw. */
    private final List<HeaderMap> seen = new CopyOnWriteArrayList<>();
    private EventLoopGroup group;
    private Channel server;
    private int port;

    /** Terminal: 101 for an upgrade request (200 otherwise), then echoes each body chunk as {@code [chunk]}. */
    final class TunnelFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;

        TunnelFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            seen.add(headers);
            HeaderMap r = new NettyHeaderMap();
            if (headers.contains("upgrade")) {
                r.set(HeaderMap.STATUS, "101").set("upgrade", headers.get("upgrade")).set("connection", "Upgrade");
                cb.encodeHeaders(r, false);
            } else {
                r.set(HeaderMap.STATUS, "200").set("x-upgrade", String.valueOf(headers.get("upgrade")));
                if ("/held".equals(headers.path())) {
                    cb.dispatcher().schedule(() -> cb.encodeHeaders(r, true), 100, TimeUnit.MILLISECONDS);
                } else {
                    cb.encodeHeaders(r, true);
                }
            }
            return FilterHeadersStatus.STOP_ITERATION;
        }

        @Override
        public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
            ByteBuf out = Unpooled.buffer();
            if (data.isReadable()) {
                out.writeByte('[').writeBytes(data, data.readerIndex(), data.readableBytes()).writeByte(']');
            }
            if (endStream) {
                out.writeBytes("<end>".getBytes(StandardCharsets.US_ASCII));
            }
            cb.encodeData(out, endStream);
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
    }

    @BeforeEach
    void start() throws Exception {
        cfg.chain = List.of(new HttpFilterChainEntry("test.tunnel", TunnelFilter::new, true));
        group = Transports.newGroup(1, "upgrade-test");
        var installer = new HttpConnectionServiceImpl().connectionManager(cfg);
        server = new ServerBootstrap().group(group).channel(Transports.serverChannelClass())
                .childOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        installer.install(new TestDownstreamConnection(ch, 1 << 20));
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterEach
    void stop() throws Exception {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static String readUntil(InputStream in, StringBuilder sb, String marker) throws Exception {
        byte[] buf = new byte[4096];
        while (!sb.toString().contains(marker)) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
        return sb.toString();
    }

    @Test
    void acceptedUpgradeBecomesAByteTunnelUntilTheClientsFin() throws Exception {
        cfg.upgradeConfigs = Map.of("websocket", true);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            // Bytes right behind the head, in the same write: the codec must not swallow them.
            out.write(("GET /chat HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n"
                    + "Keep-Alive: 5\r\n\r\nEARLY").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            StringBuilder sb = new StringBuilder();
            String head = readUntil(in, sb, "[EARLY]");
            assertThat(head).startsWith("HTTP/1.1 101 Switching Protocols\r\n")
                    .containsIgnoringCase("upgrade: WebSocket\r\n").containsIgnoringCase("connection: Upgrade\r\n")
                    .doesNotContainIgnoringCase("content-length").doesNotContainIgnoringCase("transfer-encoding")
                    .endsWith("\r\n\r\n[EARLY]");
            assertThat(cfg.counter("downstream_cx_upgrades_total")).isEqualTo(1);
            assertThat(cfg.gauge("downstream_cx_upgrades_active")).isEqualTo(1);

            // What looks like HTTP is payload now.
            out.write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            readUntil(in, sb, "[GET / HTTP/1.1\r\n\r\n]");
            s.shutdownOutput();
            String all = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // until the proxy closes
            assertThat(sb + all).endsWith("[GET / HTTP/1.1\r\n\r\n]<end>");
        }
        HeaderMap req = seen.get(0);
        assertThat(req.get("connection")).isEqualTo("keep-alive, Upgrade");
        assertThat(req.get("upgrade")).isEqualTo("WebSocket");
        assertThat(req.contains("keep-alive")).isFalse();
        waitFor(() -> cfg.gauge("downstream_cx_active") == 0);
        assertThat(cfg.gauge("downstream_cx_upgrades_active")).isZero();
        assertThat(cfg.completed).hasSize(1);
        assertThat(cfg.completed.get(0).status()).isEqualTo(101);
    }

    @Test
    void anUpgradePipelinedBehindAHeldRequestIsRefusedRatherThanLosingItsEarlyBytes() throws Exception {
        cfg.upgradeConfigs = Map.of("websocket", true);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /held HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                    + "RAWBYTES\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 200 OK\r\n");
            assertThat(all.substring(all.indexOf("\r\n\r\n") + 4)).startsWith("HTTP/1.1 400 Bad Request\r\n")
                    .containsIgnoringCase("connection: close\r\n").doesNotContain("101").doesNotContain("RAWBYTES");
        }
        assertThat(seen).hasSize(1);
        waitFor(() -> cfg.completed.size() == 2);
        assertThat(cfg.completed.get(1).details()).isEqualTo("http1.pipelined_upgrade");
        assertThat(cfg.completed.get(1).flags()).isEqualTo("DPE");
    }

    @Test
    void anUpgradeBehindAnAnsweredRequestInTheSameWriteKeepsItsEarlyBytes() throws Exception {
        cfg.upgradeConfigs = Map.of("websocket", true);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                    + "RAWBYTES\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String all = readUntil(s.getInputStream(), new StringBuilder(), "[RAWBYTES\r\n]");
            assertThat(all).startsWith("HTTP/1.1 200 OK\r\n").contains("HTTP/1.1 101 Switching Protocols\r\n")
                    .endsWith("\r\n\r\n[RAWBYTES\r\n]");
        }
    }

    @Test
    void upgradeNotAllowedIs403AndTheConnectionCloses() throws Exception {
        cfg.upgradeConfigs = Map.of("websocket", false);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(all).startsWith("HTTP/1.1 403 Forbidden\r\n").containsIgnoringCase("connection: close\r\n")
                    .containsIgnoringCase("content-length: 0\r\n").doesNotContainIgnoringCase("upgrade:");
        }
        assertThat(seen).isEmpty();
        assertThat(cfg.counter("downstream_rq_ws_on_non_ws_route")).isEqualTo(1);
        assertThat(cfg.counter("downstream_cx_upgrades_total")).isZero();
        waitFor(() -> cfg.completed.size() == 1);
        assertThat(cfg.completed.get(0).details()).isEqualTo("upgrade_failed");
    }

    @Test
    void h2cUpgradeIsNeverHonoured() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /x HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            String head = readUntil(s.getInputStream(), new StringBuilder(), "\r\n\r\n");
            assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("x-upgrade: null\r\n");
        }
        assertThat(seen.get(0).contains("http2-settings")).isFalse();
        assertThat(cfg.counter("downstream_rq_ws_on_non_ws_route")).isZero();
    }

    private static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!cond.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(cond.getAsBoolean()).isTrue();
    }
}
