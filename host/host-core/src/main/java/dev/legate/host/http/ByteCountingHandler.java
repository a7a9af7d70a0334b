package dev.legate.host.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/** Counts raw connection bytes into {@code downstream_cx_rx_bytes_total} / {@code downstream_cx_tx_bytes_total}. */
final class ByteCountingHandler extends ChannelDuplexHandler {

    private final ConnectionManagerStats stats;

    ByteCountingHandler(ConnectionManagerStats stats) {
        this.stats = stats;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            stats.cxRxBytesTotal.add(b.readableBytes());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf b) {
            stats.cxTxBytesTotal.add(b.readableBytes());
        }
        ctx.write(msg, promise);
    }
}
