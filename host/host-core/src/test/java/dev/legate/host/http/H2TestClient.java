package dev.legate.host.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import dev.legate.host.event.Transports;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP/2 (h2c prior knowledge) client for the socket-tier tests, made of Netty's client codec: one
 * connection, one {@link Http2StreamChannel} per request. Frames the server sends on the connection (SETTINGS,
 * GOAWAY) are queued in {@link #connectionFrames}.
 */
final class H2TestClient implements AutoCloseable {

    /** What one stream received. {@code rstCode} is {@code null} unless the server reset the stream. */
    record Response(Http2Headers headers, String body, Http2Headers trailers, Long rstCode) {
        int status() {
            return headers == null ? 0 : Integer.parseInt(headers.status().toString());
        }
    }

    final EventLoopGroup group;
    final Channel channel;
    final Http2FrameCodec codec;
    final BlockingQueue<Object> connectionFrames = new LinkedBlockingQueue<>();

    H2TestClient(int port) throws Exception {
        this(port, Http2Settings.defaultSettings());
    }

    H2TestClient(int port, Http2Settings settings) throws Exception {
        group = Transports.newGroup(1, "h2-client");
        codec = Http2FrameCodecBuilder.forClient().initialSettings(settings).build();
        channel = new Bootstrap().group(group).channel(Transports.socketChannelClass())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(codec, new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof Http2GoAwayFrame g) {
                                            connectionFrames.add(g.retain());
                                        } else if (msg instanceof Http2SettingsFrame s) {
                                            connectionFrames.add(s);
                                        }
                                        ReferenceCountUtil.release(msg);
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    /** Waits for the server's SETTINGS frame. */
    Http2Settings serverSettings() throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            Object o = connectionFrames.poll(100, TimeUnit.MILLISECONDS);
            if (o instanceof Http2SettingsFrame s) {
                return s.settings();
            }
        }
        throw new AssertionError("no SETTINGS from the server");
    }

    /** Waits for a GOAWAY frame (released by the caller's assertions: only id and code are read). */
    Http2GoAwayFrame goAway(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < end) {
            Object o = connectionFrames.poll(50, TimeUnit.MILLISECONDS);
            if (o instanceof Http2GoAwayFrame g) {
                g.release();
                return g;
            }
        }
        return null;
    }

    static Http2Headers request(String method, String path) {
        return new DefaultHttp2Headers().method(method).path(path).scheme("http").authority("test.local");
    }

    /** Opens a stream. */
    Stream open() throws Exception {
        Stream s = new Stream();
        s.ch = new Http2StreamChannelBootstrap(channel).handler(s).open().sync().getNow();
        return s;
    }

    /** One request: headers, then body and trailers as the test writes them; collects the response. */
    static final class Stream extends ChannelInboundHandlerAdapter {
        Http2StreamChannel ch;
        final CompletableFuture<Response> done = new CompletableFuture<>();
        private Http2Headers headers;
        private Http2Headers trailers;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final BlockingQueue<String> chunks = new LinkedBlockingQueue<>();
        /** The code of a RST_STREAM the server sent, even after the response ended. */
        final CompletableFuture<Long> rst = new CompletableFuture<>();

        ChannelFuture headers(Http2Headers h, boolean end) {
            return ch.writeAndFlush(new DefaultHttp2HeadersFrame(h, end));
        }

        ChannelFuture data(String s, boolean end) {
            return data(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8), end);
        }

        ChannelFuture data(ByteBuf b, boolean end) {
            return ch.writeAndFlush(new DefaultHttp2DataFrame(b, end));
        }

        ChannelFuture trailers(Http2Headers t) {
            return ch.writeAndFlush(new DefaultHttp2HeadersFrame(t, true));
        }

        ChannelFuture reset() {
            return ch.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
        }

        Response get() throws Exception {
            return done.get(5, TimeUnit.SECONDS);
        }

        private Response response(Long rst) {
            return new Response(headers, body.toString(StandardCharsets.UTF_8), trailers, rst);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame f) {
                    if (headers == null || headers.status() != null && headers.status().charAt(0) == '1') {
                        headers = f.headers();
                    } else {
                        trailers = f.headers();
                    }
                    if (f.isEndStream()) {
                        done.complete(response(null));
                    }
                } else if (msg instanceof Http2DataFrame f) {
                    byte[] bytes = new byte[f.content().readableBytes()];
                    f.content().readBytes(bytes);
                    body.writeBytes(bytes);
                    chunks.add(new String(bytes, StandardCharsets.UTF_8));
                    if (f.isEndStream()) {
                        done.complete(response(null));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                rst.complete(r.errorCode());
                done.complete(response(r.errorCode()));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.complete(response(-1L));
        }
    }

    @Override
    public void close() throws Exception {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
