package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.network.CloseType;
import dev.legate.host.listener.DownstreamConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * {@code codec_type: AUTO} on cleartext: looks at a connection's first bytes and installs the HTTP/2 codec if
 * they are the 24-byte client connection preface ({@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n}, RFC 9113 §3.4), the
 * HTTP/1.1 codec as soon as one byte differs (Envoy's {@code ConnectionManagerUtility::determineNextProtocol}
 * with {@code Http2::CLIENT_MAGIC_PREFIX}). Then it removes itself and hands the bytes seen so far on. No
 * HTTP/1.1 {@code Upgrade: h2c} (Envoy does not do it downstream).
 *
 * <p>Confined to the connection's event loop. Holds at most 23 bytes until it decides; releases them if the
 * connection closes first. A connection that sends nothing is closed after the HCM's connection idle timeout.
 * A connection that ends before a codec is chosen is counted here ({@code downstream_cx_total},
 * {@code downstream_cx_destroy}, {@code _local}/{@code _remote}, {@code downstream_cx_length_ms}); once chosen,
 * the codec's connection handler counts it. Either way every accepted connection is counted once.
 */
final class Http2PrefaceSniffer extends ChannelInboundHandlerAdapter {

    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();
    private static final int PREFACE_LENGTH = PREFACE.readableBytes();

    private final HttpConnectionManagerInstaller installer;
    private final DownstreamConnection conn;
    private ByteBuf seen;
    private boolean decided;
    private Dispatcher.Timer idleTimer;
    private boolean localClose;
    private long startNanos;

    Http2PrefaceSniffer(HttpConnectionManagerInstaller installer, DownstreamConnection conn) {
        this.installer = installer;
        this.conn = conn;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        startNanos = System.nanoTime();
        long idle = installer.config().connectionIdleTimeoutMillis();
        if (idle > 0) {
            idleTimer = conn.dispatcher().schedule(() -> {
                idleTimer = null;
                if (!decided) {
                    installer.stats().cxIdleTimeout.inc();
                    localClose = true;
                    conn.close(CloseType.NO_FLUSH);
                }
            }, idle, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (decided || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (seen == null) {
            seen = in;
        } else {
            ByteBuf both = ctx.alloc().buffer(seen.readableBytes() + in.readableBytes());
            both.writeBytes(seen).writeBytes(in);
            seen.release();
            in.release();
            seen = both;
        }
        int n = Math.min(seen.readableBytes(), PREFACE_LENGTH);
        boolean prefix = ByteBufUtil.equals(seen, seen.readerIndex(), PREFACE, PREFACE.readerIndex(), n);
        if (prefix && n < PREFACE_LENGTH) {
            return; // wait for more
        }
        decide(ctx, prefix);
    }

    private void decide(ChannelHandlerContext ctx, boolean http2) {
        decided = true;
        cancelTimer();
        if (http2) {
            installer.installHttp2(conn);
        } else {
            installer.installHttp1(conn);
        }
        ByteBuf bytes = seen;
        seen = null;
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(bytes);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!decided && evt instanceof ChannelInputShutdownEvent) {
            // The peer sent (part of) a preface or nothing and half-closed: nothing to answer.
            ReferenceCountUtil.release(evt);
            conn.close(CloseType.NO_FLUSH); // the peer's doing: a remote close
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!decided) {
            decided = true;
            ConnectionManagerStats stats = installer.stats();
            stats.cxTotal.inc();
            stats.cxDestroy.inc();
            (localClose ? stats.cxDestroyLocal : stats.cxDestroyRemote).inc();
            stats.cxLengthMs.record(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
        }
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        cancelTimer();
        if (seen != null) {
            seen.release();
            seen = null;
        }
    }

    private void cancelTimer() {
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
    }
}
