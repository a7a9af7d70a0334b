package dev.legate.host.admin;

import static java.util.Objects.requireNonNull;

import dev.legate.host.event.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Envoy's admin listener ({@code admin.address}): {@code /ready}, {@code /stats} (text, {@code ?format=json},
 * {@code ?format=prometheus}, {@code ?filter=}), {@code /stats/prometheus}, {@code /clusters},
 * {@code /listeners}, {@code /config_dump}, {@code /server_info}, {@code /plugins}, {@code /help}, and the
 * POST-only {@code /quitquitquit}, {@code /healthcheck/fail}, {@code /healthcheck/ok}.
 *
 * <p>Runs on its own single-thread event loop ({@code legate-admin}), never on a worker, so that a slow
 * {@code /config_dump} or {@code /stats} never delays traffic. HTTP/1.1 through Netty's codec; request bodies
 * are limited to 64 KiB. Lifecycle: construct → {@link #start()} once → {@link #close()}.
 */
public final class AdminServer implements AutoCloseable {

    /** What {@code /server_info} reports as {@code version}. */
    public static final String VERSION = "legate/0.1.0";

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

    private final InetSocketAddress address;
    private final AdminContext ctx;
    private EventLoopGroup group;
    private Channel channel;

    /**
     * @param address where to listen (port 0 picks a free port); Envoy's advice is loopback only
     * @param ctx     the server the endpoints read and act on
     */
    public AdminServer(InetSocketAddress address, AdminContext ctx) {
        this.address = requireNonNull(address, "address");
        this.ctx = requireNonNull(ctx, "ctx");
    }

    /**
     * Binds and starts serving; returns the bound address (the real port when asked for 0).
     *
     * @throws IllegalStateException when already started or the address cannot be bound (message names it)
     */
    public synchronized InetSocketAddress start() {
        if (group != null) {
            throw new IllegalStateException("admin server already started");
        }
        group = Transports.newGroup(1, "legate-admin");
        AdminEndpoints endpoints = new AdminEndpoints(ctx);
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(Transports.serverChannelClass())
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                new Handler(endpoints));
                    }
                });
        try {
            channel = b.bind(address).syncUninterruptibly().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            throw new IllegalStateException("admin.address " + address + ": cannot bind: " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) channel.localAddress();
        LOG.info("admin address: {}", bound);
        return bound;
    }

    /** Stops listening and ends the admin thread; waits up to 5 s unless called on the admin thread. Idempotent. */
    @Override
    public synchronized void close() {
        if (group == null) {
            return;
        }
        EventLoopGroup g = group;
        group = null;
        if (channel != null) {
            channel.close();
            channel = null;
        }
        var f = g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        boolean onAdminThread = g.next().inEventLoop();
        if (!onAdminThread) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** The Netty glue: one aggregated request in, one full response out. */
    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final AdminEndpoints endpoints;

        Handler(AdminEndpoints endpoints) {
            this.endpoints = endpoints;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ch, FullHttpRequest req) {
            AdminEndpoints.Response r = req.decoderResult().isSuccess()
                    ? endpoints.handle(req.method().name(), req.uri())
                    : new AdminEndpoints.Response(400, AdminEndpoints.TEXT, "bad request\n");
            ByteBuf body = Unpooled.copiedBuffer(r.body(), StandardCharsets.UTF_8);
            FullHttpResponse resp = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(r.status()), body);
            resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
            resp.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache, max-age=0");
            resp.headers().set("x-content-type-options", "nosniff");
            HttpUtil.setContentLength(resp, body.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req) && r.afterResponse() == null;
            if (!keepAlive) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (req.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
                resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
            var write = ch.writeAndFlush(resp);
            if (!keepAlive) {
                write.addListener(ChannelFutureListener.CLOSE);
            }
            Runnable after = r.afterResponse();
            if (after != null) {
                write.addListener(f -> {
                    Thread t = new Thread(after, "legate-admin-quit");
                    t.setDaemon(false);
                    t.start();
                });
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ch, Throwable cause) {
            LOG.debug("admin connection {}: {}", ch.channel().remoteAddress(), cause.toString());
            ch.close();
        }
    }
}
