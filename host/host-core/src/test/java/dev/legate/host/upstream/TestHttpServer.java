package dev.legate.host.upstream;

import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 origin on 127.0.0.1:0 for the pool tests. It answers {@code 200 <method> <uri> <body>}
 * with a content-length, except: {@code /close} adds {@code connection: close}; {@code /chunked} answers in
 * two chunks with a trailer {@code x-t: done}; {@code /die} closes the connection after the headers of an
 * unfinished response; {@code /hold} waits until {@link #releaseHeld()}; {@code /500} answers 500.
 */
final class TestHttpServer implements AutoCloseable {

    final AtomicInteger connections = new AtomicInteger();
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final EventLoopGroup group = Transports.newGroup(1, "test-origin");
    private final Channel server;

    TestHttpServer() {
        server = new ServerBootstrap().group(group).channel(Transports.serverChannelClass())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    int port() {
        return address().getPort();
    }

    /** Answers every held request. */
    void releaseHeld() {
        List<Runnable> now = List.copyOf(held);
        held.clear();
        now.forEach(Runnable::run);
    }

    int heldCount() {
        return held.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            String body = req.content().toString(StandardCharsets.UTF_8);
            String line = req.method() + " " + req.uri() + " " + body;
            requests.add(line);
            switch (req.uri()) {
                case "/chunked" -> {
                    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    r.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
                    ctx.write(r);
                    ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("part1-", StandardCharsets.UTF_8)));
                    LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("part2", StandardCharsets.UTF_8));
                    last.trailingHeaders().set("x-t", "done");
                    ctx.writeAndFlush(last);
                }
                case "/die" -> {
                    HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 100);
                    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                }
                case "/hold" -> held.add(() -> ctx.executor().execute(() -> respond(ctx, line, false, 200)));
                case "/close" -> respond(ctx, line, true, 200);
                case "/500" -> respond(ctx, line, false, 500);
                default -> respond(ctx, line, false, 200);
            }
        }

        private void respond(ChannelHandlerContext ctx, String text, boolean close, int status) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            if (close) {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.writeAndFlush(r);
            }
        }
    }
}
