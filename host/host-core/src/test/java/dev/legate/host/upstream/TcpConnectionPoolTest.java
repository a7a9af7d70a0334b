package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.host.event.NettyDispatcher;
import dev.legate.host.event.Transports;
import dev.legate.host.stats.StatsStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The TCP pool against a real echo server that half-closes after the client's FIN. */
class TcpConnectionPoolTest {

    private static EventLoopGroup workers;
    private static EventLoop loop;
    private static EventLoopGroup serverGroup;
    private Channel echo;
    private StatsStore stats;
    private ClusterManagerImpl cm;

    @BeforeAll
    static void startLoops() {
        workers = Transports.newGroup(1, "tcp-pool-test");
        loop = workers.next();
        serverGroup = Transports.newGroup(1, "echo");
    }

    @AfterAll
    static void stopLoops() throws InterruptedException {
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        UpstreamTestSupport.assertNoLeaks();
    }

    @BeforeEach
    void startEcho() {
        stats = new StatsStore();
        echo = new ServerBootstrap().group(serverGroup).channel(Transports.serverChannelClass())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ctx.writeAndFlush(msg);
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof ChannelInputShutdownEvent) {
                                    // Echo the FIN, then close.
                                    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f ->
                                            ((DuplexChannel) ctx.channel()).shutdownOutput()
                                                    .addListener(ChannelFutureListener.CLOSE));
                                }
                            }
                        });
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    @AfterEach
    void stop() {
        if (cm != null) {
            cm.close();
        }
        echo.close().syncUninterruptibly();
    }

    private UpstreamCluster cluster(String extra) {
        int port = ((java.net.InetSocketAddress) echo.localAddress()).getPort();
        cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                name: echo
                %s
                load_assignment:
                  cluster_name: echo
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(extra, port))), stats, workers);
        return cm.cluster("echo");
    }

    /** Records every callback as a line, in order. */
    static class Recorder implements TcpUpstreamCallbacks {
        final BlockingQueue<String> events = new LinkedBlockingQueue<>();
        TcpUpstreamConnection connection;
        private final String send;

        Recorder(String send) {
            this.send = send;
        }

        @Override
        public void onPoolReady(TcpUpstreamConnection connection, Host host) {
            assertThat(loop.inEventLoop()).isTrue();
            this.connection = connection;
            events.add("ready");
            if (send != null) {
                connection.write(Unpooled.copiedBuffer(send, StandardCharsets.UTF_8), true);
            }
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            events.add("failure " + reason);
        }

        @Override
        public void onUpstreamData(ByteBuf data, boolean endStream) {
            events.add("data '" + data.toString(StandardCharsets.UTF_8) + "' end=" + endStream);
            data.release();
        }

        @Override
        public void onEvent(ConnectionEvent event) {
            events.add("event " + event);
        }

        String next() throws InterruptedException {
            String e = events.poll(5, TimeUnit.SECONDS);
            return e == null ? "timeout" : e;
        }
    }

    private Recorder open(UpstreamCluster c, Recorder r) throws Exception {
        loop.submit(() -> c.tcpConnectionPool(c.chooseHost(LoadBalancerContext.NONE), new NettyDispatcher(loop))
                .newConnection(r)).get(5, TimeUnit.SECONDS);
        return r;
    }

    @Test
    void echoRoundTripWithHalfClose() throws Exception {
        UpstreamCluster c = cluster("");
        Recorder r = open(c, new Recorder("hello"));
        assertThat(r.next()).isEqualTo("ready");
        assertThat(r.next()).isEqualTo("data 'hello' end=false");
        assertThat(r.next()).isEqualTo("data '' end=true");
        assertThat(r.next()).isEqualTo("event REMOTE_CLOSE");
        assertThat(stats.counter("cluster.echo.upstream_cx_total")).isEqualTo(1);
        assertThat(stats.counter("cluster.echo.upstream_cx_tx_bytes_total")).isEqualTo(5);
        assertThat(stats.counter("cluster.echo.upstream_cx_rx_bytes_total")).isEqualTo(5);
        assertThat(stats.counter("cluster.echo.upstream_cx_destroy_remote")).isEqualTo(1);
        assertThat(stats.gauge("cluster.echo.upstream_cx_active")).isZero();
    }

    @Test
    void localCloseIsReportedOnce() throws Exception {
        UpstreamCluster c = cluster("");
        Recorder r = open(c, new Recorder(null));
        assertThat(r.next()).isEqualTo("ready");
        loop.submit(() -> {
            r.connection.write(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8), false);
            r.connection.close(CloseType.FLUSH_WRITE);
            r.connection.close(CloseType.NO_FLUSH);
        }).get(5, TimeUnit.SECONDS);
        assertThat(r.next()).isEqualTo("event LOCAL_CLOSE");
        assertThat(r.events.poll(100, TimeUnit.MILLISECONDS)).isNull();
        assertThat(stats.counter("cluster.echo.upstream_cx_destroy_local")).isEqualTo(1);
    }

    @Test
    void writeBufferWatermarksAreReported() throws Exception {
        // An upstream that does not read until told: our writes back up above per_connection_buffer_limit_bytes.
        java.util.concurrent.CompletableFuture<Channel> accepted = new java.util.concurrent.CompletableFuture<>();
        Channel slow = new ServerBootstrap().group(serverGroup).channel(Transports.serverChannelClass())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                io.netty.util.ReferenceCountUtil.release(msg);
                            }
                        });
                        accepted.complete(ch);
                    }
                })
                .bind("127.0.0.1", 0).syncUninterruptibly().channel();
        try {
            int port = ((java.net.InetSocketAddress) slow.localAddress()).getPort();
            cm = new ClusterManagerImpl(List.of(UpstreamTestSupport.cluster("""
                    name: slow
                    per_connection_buffer_limit_bytes: 1024
                    load_assignment:
                      cluster_name: slow
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                    """.formatted(port))), stats, workers);
            UpstreamCluster c = cm.cluster("slow");
            Recorder r = new Recorder(null) {
                @Override
                public void onAboveWriteBufferHighWatermark() {
                    events.add("above");
                }

                @Override
                public void onBelowWriteBufferLowWatermark() {
                    events.add("below");
                }
            };
            open(c, r);
            assertThat(r.next()).isEqualTo("ready");
            loop.submit(() -> {
                r.connection.write(Unpooled.wrappedBuffer(new byte[32 << 20]), false);
                assertThat(r.connection.isWritable()).isFalse();
            }).get(5, TimeUnit.SECONDS);
            assertThat(r.next()).isEqualTo("above");
            accepted.get(5, TimeUnit.SECONDS).config().setAutoRead(true);
            assertThat(r.events.poll(10, TimeUnit.SECONDS)).isEqualTo("below");
            loop.submit(() -> r.connection.close(CloseType.NO_FLUSH)).get(5, TimeUnit.SECONDS);
            assertThat(r.next()).isEqualTo("event LOCAL_CLOSE");
        } finally {
            slow.close().syncUninterruptibly();
        }
    }

    @Test
    void maxConnectionsOverflows() throws Exception {
        UpstreamCluster c = cluster("circuit_breakers: {thresholds: [{max_connections: 1}]}");
        Recorder first = open(c, new Recorder(null));
        assertThat(first.next()).isEqualTo("ready");
        Recorder second = open(c, new Recorder(null));
        assertThat(second.next()).isEqualTo("failure OVERFLOW");
        assertThat(stats.counter("cluster.echo.upstream_cx_overflow")).isEqualTo(1);
        loop.submit(() -> first.connection.close(CloseType.NO_FLUSH)).get(5, TimeUnit.SECONDS);
        assertThat(first.next()).isEqualTo("event LOCAL_CLOSE");
        Recorder third = open(c, new Recorder(null));
        assertThat(third.next()).isEqualTo("ready");
    }
}
