package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket over HTTP/2 (RFC 8441 extended CONNECT) through the real distribution to an HTTP/1.1 WebSocket server,
 * as Envoy does it: the HTTP/2 client's {@code CONNECT} with {@code :protocol websocket} reaches the upstream as
 * an HTTP/1.1 {@code Upgrade: websocket} request, the server's 101 comes back as 200, and the DATA frames carry
 * the WebSocket frames both ways. The client is Netty's HTTP/2 codec with Netty's WebSocket frame encoder and
 * decoder on the stream; the server is Netty's {@link WebSocketServerProtocolHandler}.
 */
class ExtendedConnectIT {

    static EventLoopGroup group;
    static Channel server;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                                new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                        .websocketPath("/").checkStartsWith(true).maxFramePayloadLength(1 << 20)
                                        .build()),
                                new WebSocketFrameAggregator(1 << 20), new Echo());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        String routes = """
                { virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/nows" }, route: { cluster: ws, upgrade_configs: [ { upgrade_type: websocket, enabled: false } ] } },
                  { match: { prefix: "/" }, route: { cluster: ws } } ] } ] }""";
        proxy = new Proxy("""
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: h2
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: h2
                          codec_type: AUTO
                          http2_protocol_options: { allow_connect: true }
                          upgrade_configs: [ { upgrade_type: websocket } ]
                          route_config: %s
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s ]
                """.formatted(routes, Proxy.staticCluster("ws", "", port)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Echoes text as {@code echo:<text>}, binary as is. */
    static final class Echo extends SimpleChannelInboundHandler<WebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
            if (frame instanceof TextWebSocketFrame t) {
                ctx.writeAndFlush(new TextWebSocketFrame("echo:" + t.text()));
            } else if (frame instanceof BinaryWebSocketFrame b) {
                ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
            }
        }
    }

    @Test
    void webSocketOverExtendedConnectReachesAnHttp1Server() throws Exception {
        try (H2WebSocket ws = H2WebSocket.open(proxy.port("h2"), "/chat")) {
            assertThat(ws.connectProtocolEnabled).as("SETTINGS_ENABLE_CONNECT_PROTOCOL").isTrue();
            assertThat(ws.status.get(5, TimeUnit.SECONDS)).as("101 from the server goes back as 200").isEqualTo("200");

            ws.send(new TextWebSocketFrame("hello"));
            assertThat(ws.next()).isEqualTo("text:echo:hello");

            byte[] payload = new byte[256 * 1024];
            new Random(7).nextBytes(payload);
            ws.send(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)));
            assertThat(ws.next()).isEqualTo("binary:" + sha256(payload));

            ws.send(new CloseWebSocketFrame(1000, "bye"));
            assertThat(ws.next()).isEqualTo("close:1000");
        }
        assertThat(proxy.counter("http.h2.downstream_cx_upgrades_total")).isEqualTo(1);
        assertThat(proxy.counter("http.h2.downstream_rq_http2_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRouteWithoutWebSocketRefusesTheConnectWith403() throws Exception {
        try (H2WebSocket ws = H2WebSocket.open(proxy.port("h2"), "/nows")) {
            assertThat(ws.status.get(5, TimeUnit.SECONDS)).isEqualTo("403");
        }
        assertThat(proxy.counter("http.h2.downstream_rq_ws_on_non_ws_route")).isEqualTo(1);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * One extended CONNECT stream on its own h2c connection, with Netty's WebSocket framing (client side: masked
     * writes) over the stream's DATA frames.
     */
    static final class H2WebSocket implements AutoCloseable {
        final CompletableFuture<String> status = new CompletableFuture<>();
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        Channel connection;
        Http2StreamChannel stream;
        boolean connectProtocolEnabled;

        static H2WebSocket open(int port, String path) throws Exception {
            H2WebSocket ws = new H2WebSocket();
            CompletableFuture<Http2Settings> settings = new CompletableFuture<>();
            ws.connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            if (msg instanceof Http2SettingsFrame s) {
                                                settings.complete(s.settings());
                                            }
                                            ReferenceCountUtil.release(msg);
                                        }
                                    });
                        }
                    }).connect("127.0.0.1", port).sync().channel();
            ws.connectProtocolEnabled = Boolean.TRUE.equals(settings.get(5, TimeUnit.SECONDS).connectProtocolEnabled());
            ws.stream = new Http2StreamChannelBootstrap(ws.connection).handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(ws.new DataFrames(), new WebSocket13FrameDecoder(false, true, 1 << 20),
                            new WebSocket13FrameEncoder(true), new WebSocketFrameAggregator(1 << 20), ws.new Frames());
                }
            }).open().sync().getNow();
            byte[] key = new byte[16];
            new Random(1).nextBytes(key);
            Http2Headers h = new DefaultHttp2Headers().method("CONNECT").scheme("http").path(path)
                    .authority("127.0.0.1:" + port).add(":protocol", "websocket")
                    .add("sec-websocket-version", "13").add("sec-websocket-key", Base64.getEncoder().encodeToString(key));
            ws.stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, false)).sync();
            return ws;
        }

        void send(WebSocketFrame frame) throws Exception {
            stream.writeAndFlush(frame).sync();
        }

        String next() throws InterruptedException {
            String s = received.poll(10, TimeUnit.SECONDS);
            assertThat(s).as("a WebSocket frame within 10 s").isNotNull();
            return s;
        }

        @Override
        public void close() throws Exception {
            connection.close().sync();
        }

        /** The stream's HEADERS give the status; its DATA frames are bytes for the WebSocket codec, and back. */
        final class DataFrames extends ChannelDuplexHandler {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame h) {
                    status.complete(String.valueOf(h.headers().status()));
                } else if (msg instanceof Http2DataFrame d) {
                    ctx.fireChannelRead(d.content().retain());
                    d.release();
                    return;
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                if (msg instanceof ByteBuf b) {
                    ctx.write(new DefaultHttp2DataFrame(b), promise);
                } else {
                    ctx.write(msg, promise);
                }
            }
        }

        /** What arrived, as a short description per frame. */
        final class Frames extends SimpleChannelInboundHandler<WebSocketFrame> {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                if (f instanceof TextWebSocketFrame t) {
                    received.add("text:" + t.text());
                } else if (f instanceof BinaryWebSocketFrame b) {
                    received.add("binary:" + sha256(ByteBufUtil.getBytes(b.content())));
                } else if (f instanceof CloseWebSocketFrame c) {
                    received.add("close:" + c.statusCode());
                }
            }
        }
    }
}
