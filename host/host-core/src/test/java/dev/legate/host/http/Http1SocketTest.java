package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The codec and stream machine on a real loopback socket, driven by the JDK's HttpClient and a raw socket. */
class Http1SocketTest {

    private final TestHttpConfig cfg = new TestHttpConfig();
    private EventLoopGroup group;
    private Channel server;
    private int port;

    @BeforeEach
    void start() throws Exception {
        cfg.chain = TestFilters.chain();
        group = Transports.newGroup(1, "http-test");
        var installer = new HttpConnectionServiceImpl().connectionManager(cfg);
        server = new ServerBootstrap().group(group).channel(Transports.serverChannelClass())
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
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }

    @Test
    void jdkClientGetsAnswersOverOneKeepAliveConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        URI base = URI.create("http://127.0.0.1:" + port);
        HttpResponse<String> get = client.send(HttpRequest.newBuilder(base.resolve("/hello"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        String body = "x".repeat(100_000);
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(base.resolve("/echo"))
                        .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> local = client.send(HttpRequest.newBuilder(base.resolve("/local"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("x-echo-path")).hasValue("/hello");
        assertThat(post.statusCode()).isEqualTo(200);
        assertThat(post.body()).isEqualTo(body);
        assertThat(local.statusCode()).isEqualTo(403);
        assertThat(local.body()).isEqualTo("denied by test");
        assertThat(cfg.counter("downstream_cx_total")).isEqualTo(1);
        assertThat(cfg.counter("downstream_rq_total")).isEqualTo(3);
    }

    @Test
    void rawSocketPipelinesTwoRequestsAndSeesConnectionClose() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /a HTTP/1.1\r\nHost: h\r\nx-pause: 1\r\n\r\n"
                    + "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.US_ASCII); // ends at the server's close
            assertThat(all.indexOf("x-echo-path: /a")).isGreaterThan(0);
            assertThat(all.indexOf("x-echo-path: /b")).isGreaterThan(all.indexOf("x-echo-path: /a"));
            assertThat(all).contains("connection: close");
        }
    }
}
