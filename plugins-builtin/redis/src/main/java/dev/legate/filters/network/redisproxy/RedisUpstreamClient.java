package dev.legate.filters.network.redisproxy;

import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import dev.legate.api.upstream.UpstreamCluster;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One pipelined connection to one Redis host, shared by every client connection of one event loop (Envoy's
 * {@code Common::Redis::Client::ClientImpl}, {@code client_impl.cc}). Requests are written in order and
 * replies matched to them in order; a reply goes to its {@link ReplyHandler} as the raw bytes (a slice
 * passed on unparsed) or parsed, as the handler asks.
 *
 * <h2>Writes</h2>
 * {@link #send} encodes into a pending buffer; {@link #flush} writes it, so a read of many pipelined client
 * commands becomes one upstream write. With {@code max_buffer_size_before_flush} set, the buffer is written
 * once it reaches that size or after {@code buffer_flush_timeout}. Before the connection is up, requests
 * wait in the buffer (the cluster's {@code connect_timeout} bounds that).
 *
 * <h2>op_timeout</h2>
 * Armed when requests are written and nothing is armed; every reply restarts it; when it fires with requests
 * outstanding, the cluster's {@code upstream_rq_timeout}++ and the connection closes, failing them all
 * ({@code upstream failure} to clients). One timer per connection: it is not re-scheduled per reply but
 * re-armed for the remainder when it fires early.
 *
 * <h2>Failures</h2>
 * A failed connect, a close, an op timeout or an upstream protocol error ({@code upstream_cx_protocol_error}++)
 * fail every outstanding request and drop this client from its pool; the next request opens a new one.
 *
 * <p>Confined to its event loop. Buffers: replies handed out raw are retained slices the handler releases.
 */
final class RedisUpstreamClient implements TcpUpstreamCallbacks {

    /** Who waits for one reply. Called on the loop. */
    interface ReplyHandler {
        /** Whether the reply is wanted as raw bytes (to pass on) rather than parsed. */
        boolean wantsRaw();

        /**
         * The reply.
         *
         * @param raw   its bytes, transferred (release them), when {@link #wantsRaw()}; else {@code null}
         * @param value the parsed reply, when not {@link #wantsRaw()}; else {@code null}
         * @return where to send a flush once this read's replies are delivered, or {@code null}
         */
        ReplySink onReply(ByteBuf raw, RespValue value);

        /** The request failed (connect failure, close, op timeout). Returns like {@link #onReply}. */
        ReplySink onFailure();
    }

    /** A client connection that buffers replies and writes them once per upstream read. */
    interface ReplySink {
        void flushReplies();
    }

    /** Drops the reply (mirrored requests, the RESP3 handshake). */
    static final ReplyHandler IGNORE = new ReplyHandler() {
        @Override
        public boolean wantsRaw() {
            return true;
        }

        @Override
        public ReplySink onReply(ByteBuf raw, RespValue value) {
            if (raw != null) {
                raw.release();
            }
            return null;
        }

        @Override
        public ReplySink onFailure() {
            return null;
        }
    };

    private static final List<byte[]> HELLO_3 = List.of("HELLO".getBytes(StandardCharsets.US_ASCII),
            "3".getBytes(StandardCharsets.US_ASCII));

    private final RedisConnPool.Worker worker;
    private final UpstreamCluster cluster;
    private final Host host;
    private final boolean resp3;
    private final RedisProxySettings settings;
    private final Dispatcher dispatcher;
    private final ByteBufAllocator alloc;

    private final ArrayDeque<ReplyHandler> inflight = new ArrayDeque<>();
    /** Encoded requests not written yet. */
    private ByteBuf out;
    /** Reply bytes not yet complete. */
    private ByteBuf in;
    /** Where the scan of the incomplete reply at the start of {@link #in} stopped. */
    private final RespDecoder.Scanner scanner = new RespDecoder.Scanner();
    private TcpUpstreamConnection conn;
    private Cancellable connecting;
    private boolean closed;
    private boolean closeWhenIdle;

    private Dispatcher.Timer opTimer;
    private long lastActivityMillis;
    private Dispatcher.Timer flushTimer;
    private final List<ReplySink> sinks = new ArrayList<>(4);

    private final Counter rqTotal;
    private final Gauge rqActive;
    private final Counter rqTimeout;
    private final Counter cxProtocolError;

    RedisUpstreamClient(RedisConnPool.Worker worker, UpstreamCluster cluster, Host host, boolean resp3,
                        RedisProxySettings settings, ByteBufAllocator alloc) {
        this.worker = worker;
        this.cluster = cluster;
        this.host = host;
        this.resp3 = resp3;
        this.settings = settings;
        this.dispatcher = worker.dispatcher();
        this.alloc = alloc;
        this.rqTotal = cluster.stats().counter("upstream_rq_total");
        this.rqActive = cluster.stats().gauge("upstream_rq_active");
        this.rqTimeout = cluster.stats().counter("upstream_rq_timeout");
        this.cxProtocolError = cluster.stats().counter("upstream_cx_protocol_error");
        if (resp3) {
            send(HELLO_3, IGNORE);
        }
        Cancellable c = cluster.tcpConnectionPool(host, dispatcher).newConnection(this);
        if (conn == null && !closed) {
            connecting = c;
        }
    }

    Host host() {
        return host;
    }

    boolean resp3() {
        return resp3;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Queues {@code args} as a command whose reply goes to {@code handler}; call {@link #flush} after. On a
     * client that has already failed, the handler fails at once.
     */
    void send(List<byte[]> args, ReplyHandler handler) {
        if (closed) {
            handler.onFailure();
            return;
        }
        if (out == null) {
            out = alloc.buffer(256);
        }
        RespEncoder.encodeCommand(args, out);
        inflight.add(handler);
        rqTotal.inc();
        rqActive.inc();
    }

    /**
     * Queues a command already encoded as RESP: {@code buf[from, end)}, copied (the caller keeps
     * {@code buf}). Otherwise like {@link #send(List, ReplyHandler)}.
     */
    void send(ByteBuf buf, int from, int end, ReplyHandler handler) {
        if (closed) {
            handler.onFailure();
            return;
        }
        if (out == null) {
            out = alloc.buffer(Math.max(256, end - from));
        }
        out.writeBytes(buf, from, end - from);
        inflight.add(handler);
        rqTotal.inc();
        rqActive.inc();
    }

    /** Writes what {@link #send} queued, now or per {@code max_buffer_size_before_flush}. */
    void flush() {
        if (out == null || closed) {
            return;
        }
        int max = settings.maxBufferSizeBeforeFlush();
        if (max > 0 && out.readableBytes() < max) {
            if (flushTimer == null) {
                flushTimer = dispatcher.schedule(this::onFlushTimer, settings.bufferFlushTimeoutMillis(),
                        TimeUnit.MILLISECONDS);
            }
            return;
        }
        write();
    }

    private void onFlushTimer() {
        flushTimer = null;
        if (!closed) {
            write();
        }
    }

    private void write() {
        if (flushTimer != null) {
            flushTimer.cancel();
            flushTimer = null;
        }
        if (conn == null || out == null) {
            return; // written on connect
        }
        ByteBuf b = out;
        out = null;
        conn.write(b, false);
        if (opTimer == null) {
            lastActivityMillis = dispatcher.currentTimeMillis();
            opTimer = dispatcher.schedule(this::onOpTimer, settings.opTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Closes the connection once every reply has arrived (a transaction's connection after EXEC/DISCARD). */
    void closeWhenIdle() {
        closeWhenIdle = true;
    }

    /** Closes the connection and fails what is outstanding (listener closed). */
    void close() {
        fail(true);
    }

    // TcpUpstreamCallbacks

    @Override
    public void onPoolReady(TcpUpstreamConnection connection, Host h) {
        connecting = null;
        if (closed) {
            connection.close(CloseType.NO_FLUSH);
            return;
        }
        conn = connection;
        if (out != null && settings.maxBufferSizeBeforeFlush() == 0) {
            write();
        } else if (out != null) {
            flush();
        }
    }

    @Override
    public void onPoolFailure(ResetReason reason, String transportFailure, Host h) {
        connecting = null;
        fail(false);
    }

    @Override
    public void onUpstreamData(ByteBuf data, boolean endStream) {
        if (closed) {
            data.release();
            return;
        }
        append(data);
        int from = in.readerIndex();
        try {
            while (true) {
                int end = scanner.frameEnd(in, from, false);
                if (end < 0) {
                    break;
                }
                if (resp3 && in.getByte(from) == '>') {
                    from = end; // a push message (e.g. client tracking): nobody asked for it
                    continue;
                }
                ReplyHandler h = inflight.poll();
                if (h == null) {
                    throw new RespDecoder.RespProtocolException("reply without a request");
                }
                rqActive.dec();
                ReplySink sink = h.wantsRaw()
                        ? h.onReply(in.retainedSlice(from, end - from), null)
                        : h.onReply(null, RespDecoder.decode(in, from, end, false));
                addSink(sink);
                from = end;
            }
        } catch (RespDecoder.RespProtocolException e) {
            scanner.reset();
            cxProtocolError.inc();
            fail(true);
            flushSinks();
            return;
        }
        in.readerIndex(from);
        if (!in.isReadable()) {
            in.release();
            in = null;
        } else if (in.refCnt() == 1) {
            in.discardSomeReadBytes();
        }
        lastActivityMillis = dispatcher.currentTimeMillis();
        flushSinks();
        if (endStream || (closeWhenIdle && inflight.isEmpty())) {
            fail(true);
        }
    }

    @Override
    public void onEvent(ConnectionEvent event) {
        conn = null;
        fail(false);
    }

    // Internals

    private void append(ByteBuf data) {
        if (in == null) {
            in = data;
            return;
        }
        int n = data.readableBytes();
        if (in.refCnt() > 1 || in.maxWritableBytes() < n) {
            // Slices of it are still out with handlers: never move its bytes; copy into a new buffer.
            ByteBuf merged = alloc.buffer(in.readableBytes() + n);
            merged.writeBytes(in, in.readerIndex(), in.readableBytes());
            in.release();
            in = merged;
        }
        in.writeBytes(data);
        data.release();
    }

    private void addSink(ReplySink sink) {
        if (sink != null && !sinks.contains(sink)) {
            sinks.add(sink);
        }
    }

    private void flushSinks() {
        for (int i = 0; i < sinks.size(); i++) {
            sinks.get(i).flushReplies();
        }
        sinks.clear();
    }

    private void onOpTimer() {
        opTimer = null;
        if (closed || inflight.isEmpty()) {
            return;
        }
        long idle = dispatcher.currentTimeMillis() - lastActivityMillis;
        long timeout = settings.opTimeoutMillis();
        if (idle < timeout) {
            opTimer = dispatcher.schedule(this::onOpTimer, timeout - idle, TimeUnit.MILLISECONDS);
            return;
        }
        rqTimeout.inc();
        fail(true);
    }

    /** Ends this client: fails every outstanding request, closes the connection, leaves the pool. */
    private void fail(boolean closeConnection) {
        if (closed) {
            return;
        }
        closed = true;
        worker.remove(this);
        if (opTimer != null) {
            opTimer.cancel();
            opTimer = null;
        }
        if (flushTimer != null) {
            flushTimer.cancel();
            flushTimer = null;
        }
        if (connecting != null) {
            connecting.cancel();
            connecting = null;
        }
        TcpUpstreamConnection c = conn;
        conn = null;
        if (c != null && closeConnection) {
            c.close(CloseType.NO_FLUSH);
        }
        if (out != null) {
            out.release();
            out = null;
        }
        if (in != null) {
            in.release();
            in = null;
        }
        ReplyHandler h;
        while ((h = inflight.poll()) != null) {
            rqActive.dec();
            addSink(h.onFailure());
        }
        flushSinks();
    }
}
