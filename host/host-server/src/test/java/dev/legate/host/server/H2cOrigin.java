package dev.legate.host.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/2 origin (h2c, prior knowledge, Netty's server codec) on 127.0.0.1:0 for integration tests. Each
 * stream is answered when its request ends: 200, {@code x-origin-protocol: h2}, body
 * {@code <method> <path> <scheme> <authority> <body>}; except {@code /hold...} (waits for {@link #releaseHeld()}),
 * {@code /trailers} (response trailer {@code x-t: done}), {@code /rst} (RST_STREAM INTERNAL_ERROR) and
 * {@code /refuse-once/<key>} (RST_STREAM REFUSED_STREAM the first time for a key, then 200).
 */
final class H2cOrigin implements AutoCloseable {

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger streams = new AtomicInteger();
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, Boolean> refused = new ConcurrentHashMap<>();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;

    H2cOrigin() {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel sc) {
                                        streams.incrementAndGet();
                                        sc.pipeline().addLast(new StreamHandler());
                                    }
                                }));
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    int heldCount() {
        return held.size();
    }

    void releaseHeld() {
        List<Runnable> copy = List.copyOf(held);
        held.clear();
        copy.forEach(group::execute);
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream. */
    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private Http2Headers request;
        private final StringBuilder body = new StringBuilder();
        private String trailer;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean end;
            if (msg instanceof Http2HeadersFrame h) {
                end = h.isEndStream();
                if (request == null) {
                    request = h.headers();
                    String path = String.valueOf(request.path());
                    if (path.equals("/rst")
                            || path.startsWith("/refuse-once/") && refused.putIfAbsent(path, true) == null) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(
                                path.equals("/rst") ? Http2Error.INTERNAL_ERROR : Http2Error.REFUSED_STREAM));
                        return;
                    }
                } else {
                    trailer = String.valueOf(h.headers().get("x-t"));
                }
            } else if (msg instanceof Http2DataFrame d) {
                end = d.isEndStream();
                body.append(d.content().toString(StandardCharsets.UTF_8));
                d.release();
            } else {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (end) {
                String path = String.valueOf(request.path());
                String line = request.method() + " " + path + " " + request.scheme() + " " + request.authority()
                        + " " + body;
                requests.add(line + (trailer == null ? "" : " trailer x-t=" + trailer));
                Runnable answer = () -> answer(ctx, path, line);
                if (path.startsWith("/hold")) {
                    held.add(answer);
                } else {
                    answer.run();
                }
            }
        }

        private void answer(ChannelHandlerContext ctx, String path, String line) {
            Http2Headers h = new DefaultHttp2Headers().status("200");
            h.set("x-origin-protocol", "h2");
            boolean trailers = path.equals("/trailers");
            ctx.write(new DefaultHttp2HeadersFrame(h));
            ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8), !trailers));
            if (trailers) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("x-t", "done"), true));
            }
            ctx.flush();
        }
    }
}
