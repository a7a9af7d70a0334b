package dev.legate.host.upstream;

import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2SettingsFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2FrameLogger.Direction;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP/2 origin (h2c, prior knowledge) on 127.0.0.1:0 for the pool tests, on Netty's server codec. Each
 * stream is answered when its request ends: {@code 200}, {@code x-method}, body {@code <method> <path> <body>},
 * and when the request had trailers, a response trailer {@code x-t: <request's x-t>}; except:
 * {@code /hold} waits until {@link #releaseHeld()}; {@code /rst} resets the stream (INTERNAL_ERROR) after its
 * headers; {@code /refuse} resets it with REFUSED_STREAM; {@code /goaway} sends GOAWAY with a last-stream-id
 * just below this stream (it is refused; earlier streams carry on); {@code /big} answers 1 MiB;
 * {@code /100} sends a {@code 100} first; {@code /trailers} answers with trailer {@code x-t: done}; {@code /bigheader}
 * answers with a 70 KiB header; {@code /lower} lowers SETTINGS_MAX_CONCURRENT_STREAMS to 1 and never answers
 * ({@link #goAwayAfterLower()} then sends GOAWAY with it as the last stream); {@code /lowerhold} lowers it to 1
 * and is held like {@code /hold}; {@code /die} closes the whole connection (the origin dies mid-stream);
 * {@code /sink} reads no request body until {@link #releaseSinks()} (its window is not returned). The method line shows
 * {@code :protocol} when the request has one (extended CONNECT; the server advertises it).
 */
final class TestHttp2Server implements AutoCloseable {

    static final int BIG = 1024 * 1024;

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger streams = new AtomicInteger();
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger maxOpen = new AtomicInteger();
    final AtomicInteger resetsReceived = new AtomicInteger();
    /** RST_STREAM frames read off the wire, also those for streams already closed (which no stream sees). */
    final AtomicInteger rstFramesReceived = new AtomicInteger();
    private volatile Http2StreamChannel lowerStream;
    /** Bytes of {@code /big} responses the codec has written to the socket (flow control permitting). */
    final AtomicLong bigBytesWritten = new AtomicLong();
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** The {@code :path} of every stream whose HEADERS arrived, in arrival order (before its end). */
    final List<String> paths = new CopyOnWriteArrayList<>();
    /** Request body bytes {@code /sink} streams have read; they read nothing until {@link #releaseSinks()}. */
    final AtomicLong sinkBytes = new AtomicLong();
    private final List<Channel> sinks = new CopyOnWriteArrayList<>();
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final EventLoopGroup group = Transports.newGroup(1, "test-h2-origin");
    private final Channel server;

    /** @param maxConcurrentStreams SETTINGS_MAX_CONCURRENT_STREAMS to advertise, or 0 for none */
    TestHttp2Server(long maxConcurrentStreams) {
        server = new ServerBootstrap().group(group).channel(Transports.serverChannelClass())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        Http2Settings s = Http2Settings.defaultSettings().connectProtocolEnabled(true);
                        if (maxConcurrentStreams > 0) {
                            s.maxConcurrentStreams(maxConcurrentStreams);
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(s)
                                        .frameLogger(new RstCounter())
                                        .encoderIgnoreMaxHeaderListSize(true).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel sc) {
                                        sc.pipeline().addLast(new StreamHandler());
                                    }
                                }));
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    int port() {
        return ((java.net.InetSocketAddress) server.localAddress()).getPort();
    }

    int heldCount() {
        return held.size();
    }

    /** Answers every {@code /hold} request received so far. */
    void releaseHeld() {
        List<Runnable> copy = List.copyOf(held);
        held.clear();
        copy.forEach(r -> group.execute(r));
    }

    /** Sends GOAWAY on the connection of the {@code /lower} stream, with that stream as the last one. */
    void goAwayAfterLower() {
        Http2StreamChannel sc = lowerStream;
        Channel parent = sc.parent();
        parent.eventLoop().execute(() -> {
            Http2FrameCodec codec = parent.pipeline().get(Http2FrameCodec.class);
            ChannelHandlerContext cctx = parent.pipeline().context(codec);
            codec.goAway(cctx, sc.stream().id(), Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, cctx.newPromise());
            cctx.flush();
        });
    }

    /** Lets {@code /sink} streams read (and so return window) again. */
    void releaseSinks() {
        for (Channel c : sinks) {
            c.eventLoop().execute(() -> c.config().setAutoRead(true));
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Counts inbound RST_STREAM frames at the frame reader (the frame logger sees every frame). */
    private final class RstCounter extends Http2FrameLogger {
        RstCounter() {
            super(LogLevel.TRACE, TestHttp2Server.class);
        }

        @Override
        public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
            if (direction == Direction.INBOUND) {
                rstFramesReceived.incrementAndGet();
            }
            super.logRstStream(direction, ctx, streamId, errorCode);
        }
    }

    /** One stream of the origin. */
    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private Http2Headers request;
        private final StringBuilder body = new StringBuilder();
        private String trailer;
        private boolean counted;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            streams.incrementAndGet();
            int n = open.incrementAndGet();
            maxOpen.accumulateAndGet(n, Math::max);
            counted = true;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (counted) {
                open.decrementAndGet();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame) {
                resetsReceived.incrementAndGet();
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean end;
            if (msg instanceof Http2HeadersFrame h) {
                end = h.isEndStream();
                if (request == null) {
                    request = h.headers();
                    String path = String.valueOf(request.path());
                    paths.add(path);
                    if (path.equals("/die")) {
                        ctx.channel().parent().close();
                        return;
                    }
                    if (path.equals("/rst") || path.equals("/refuse")) {
                        ctx.writeAndFlush(new DefaultHttp2ResetFrame(
                                path.equals("/rst") ? Http2Error.INTERNAL_ERROR : Http2Error.REFUSED_STREAM));
                        return;
                    }
                    if (path.equals("/sink")) {
                        ctx.channel().config().setAutoRead(false);
                        sinks.add(ctx.channel());
                    }
                    if (path.equals("/lowerhold")) {
                        ctx.channel().parent().writeAndFlush(
                                new DefaultHttp2SettingsFrame(new Http2Settings().maxConcurrentStreams(1)));
                    }
                    if (path.equals("/lower")) {
                        lowerStream = (Http2StreamChannel) ctx.channel();
                        ctx.channel().parent().writeAndFlush(
                                new DefaultHttp2SettingsFrame(new Http2Settings().maxConcurrentStreams(1)));
                        return;
                    }
                    if (path.equals("/goaway")) {
                        // A GOAWAY whose last-stream-id is just below this stream: it is refused.
                        int id = ((Http2StreamChannel) ctx.channel()).stream().id();
                        Channel parent = ctx.channel().parent();
                        Http2FrameCodec codec = parent.pipeline().get(Http2FrameCodec.class);
                        ChannelHandlerContext cctx = parent.pipeline().context(codec);
                        codec.goAway(cctx, id - 2, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, cctx.newPromise());
                        cctx.flush();
                        return;
                    }
                } else {
                    trailer = String.valueOf(h.headers().get("x-t"));
                }
            } else if (msg instanceof Http2DataFrame d) {
                end = d.isEndStream();
                if (String.valueOf(request.path()).equals("/sink")) {
                    sinkBytes.addAndGet(d.content().readableBytes());
                } else {
                    body.append(d.content().toString(StandardCharsets.UTF_8));
                }
                d.release();
            } else {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (end) {
                onRequest(ctx);
            }
        }

        private void onRequest(ChannelHandlerContext ctx) {
            String method = String.valueOf(request.method());
            String path = String.valueOf(request.path());
            CharSequence protocol = request.get(":protocol");
            String line = method + (protocol == null ? "" : "+" + protocol) + " " + path + " "
                    + (path.equals("/sink") ? "sink " + sinkBytes.get() : body);
            requests.add(line + (trailer == null ? "" : " trailer x-t=" + trailer)
                    + " te=" + request.get("te") + " connection=" + request.get("connection")
                    + " authority=" + request.authority() + " scheme=" + request.scheme());
            Runnable answer = () -> answer(ctx, method, path, line);
            if (path.equals("/hold") || path.equals("/lowerhold")) {
                held.add(answer);
            } else {
                answer.run();
            }
        }

        private void answer(ChannelHandlerContext ctx, String method, String path, String line) {
            if (path.equals("/100")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("100")));
            }
            Http2Headers h = new DefaultHttp2Headers().status(path.equals("/500") ? "500" : "200");
            h.set("x-method", method);
            if (path.equals("/bigheader")) {
                h.set("x-big", "v".repeat(70 * 1024));
            }
            if (path.equals("/big")) {
                ctx.write(new DefaultHttp2HeadersFrame(h));
                int chunk = 16 * 1024;
                for (int sent = 0; sent < BIG; sent += chunk) {
                    ByteBuf b = Unpooled.wrappedBuffer(new byte[chunk]);
                    ChannelFuture f = ctx.write(new DefaultHttp2DataFrame(b, sent + chunk >= BIG));
                    f.addListener(x -> {
                        if (x.isSuccess()) {
                            bigBytesWritten.addAndGet(chunk);
                        }
                    });
                }
                ctx.flush();
                return;
            }
            boolean trailers = trailer != null || path.equals("/trailers");
            ctx.write(new DefaultHttp2HeadersFrame(h));
            ctx.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(line, StandardCharsets.UTF_8), !trailers));
            if (trailers) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                        .set("x-t", trailer != null ? trailer : "done"), true));
            }
            ctx.flush();
        }
    }
}
