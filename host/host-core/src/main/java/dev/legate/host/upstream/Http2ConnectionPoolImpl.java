package dev.legate.host.upstream;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * One event loop's HTTP/2 connections to one host (Envoy's {@code Http2::ConnPoolImpl} on
 * {@code ConnPoolImplBase}, source/common/http/http2/conn_pool.cc and source/common/conn_pool/conn_pool_base.cc):
 * many streams per connection. Confined to {@link #loop}: no locks.
 *
 * <p>A new stream goes to the oldest connection with capacity (see {@link Http2Connection#capacity()}); when
 * none has any, the request is pending, and a connection is opened while the pending requests outnumber the
 * streams the connections being opened will take. Limits, shared through the cluster's
 * {@link ResourceManagerImpl}: {@code max_pending_requests} (then {@link ResetReason#OVERFLOW},
 * {@code upstream_rq_pending_overflow}) and {@code max_connections} (then the request waits,
 * {@code upstream_cx_overflow}; a pool with no connection at all still opens one, as Envoy does). HTTP/2
 * requests are bounded by {@code max_requests}, which the router charges per request, not by connections. A
 * connect failure fails every pending request (Envoy's {@code purgePendingStreams}).
 *
 * <p>Callbacks may run inside {@link #newStream}: {@code onPoolReady} when a connection has capacity,
 * {@code onPoolFailure} on overflow; otherwise later, on the loop. They may also run re-entrantly inside other
 * pool calls: a stream that ends (or a cancelled request) serves the next pending request from within that
 * stream's own callback or {@code reset()}, and {@link #drain()} fails pending requests from inside the call.
 * Callbacks must therefore not assume the pool is idle, and may call back into it.
 */
final class Http2ConnectionPoolImpl implements HttpConnectionPool {

    private static final Cancellable NOOP = () -> { };

    final ClusterImpl cluster;
    final HostImpl host;
    final EventLoop loop;
    final ClusterStats stats;
    /** Connected connections, oldest first; some may be full or draining. */
    private final List<Http2Connection> connections = new ArrayList<>();
    private final List<Http2Connection> connecting = new ArrayList<>();
    private final PendingRequests pending;
    private boolean draining;

    Http2ConnectionPoolImpl(ClusterImpl cluster, HostImpl host, EventLoop loop) {
        this.cluster = cluster;
        this.host = host;
        this.loop = loop;
        this.stats = cluster.stats;
        this.pending = new PendingRequests(cluster, host, loop);
    }

    // HttpConnectionPool

    @Override
    public Cancellable newStream(UpstreamResponseHandler responseHandler, PoolCallbacks callbacks) {
        requireNonNull(responseHandler, "responseHandler");
        requireNonNull(callbacks, "callbacks");
        assert loop.inEventLoop();
        if (cluster.isClosed() || draining) {
            callbacks.onPoolFailure(ResetReason.LOCAL_CONNECTION_FAILURE, "cluster manager closed", host);
            return NOOP;
        }
        Http2Connection c = withCapacity();
        if (c != null) {
            attach(c, responseHandler, callbacks);
            return NOOP;
        }
        PendingRequests.Pending p = pending.add(responseHandler, callbacks);
        if (p == null) {
            return NOOP;
        }
        maybeConnect();
        return p;
    }

    private Http2Connection withCapacity() {
        for (Http2Connection c : connections) {
            if (c.capacity() > 0) {
                return c;
            }
        }
        return null;
    }

    /** Opens a connection while pending requests outnumber the streams of the connections being opened. */
    private void maybeConnect() {
        if (draining || cluster.isClosed()) {
            return;
        }
        long connectingCapacity = 0;
        for (Http2Connection c : connecting) {
            connectingCapacity += c.initialCapacity();
        }
        if (pending.size() <= connectingCapacity) {
            return;
        }
        if (!PendingRequests.acquireConnection(cluster, !connections.isEmpty() || !connecting.isEmpty())) {
            return;
        }
        Http2Connection c = new Http2Connection(this);
        connecting.add(c);
        c.connect();
    }

    private void attach(Http2Connection c, UpstreamResponseHandler handler, PoolCallbacks callbacks) {
        c.startStream(handler, new Http2Connection.StreamReady() {
            @Override
            public void onReady(Http2Connection.Stream stream) {
                callbacks.onPoolReady(stream, host);
            }

            @Override
            public void onFailed(ResetReason reason, String detail) {
                callbacks.onPoolFailure(reason, detail, host);
            }
        });
    }

    /** Gives pending requests to connections with capacity, oldest request first. */
    private void servePending() {
        Http2Connection c;
        while (!pending.isEmpty() && (c = withCapacity()) != null) {
            PendingRequests.Pending p = pending.poll();
            attach(c, p.handler, p.callbacks);
        }
        maybeConnect();
    }

    // From Http2Connection, on the loop.

    void onConnected(Http2Connection c) {
        connecting.remove(c);
        if (draining || cluster.isClosed()) {
            connections.add(c);
            c.drain();
            return;
        }
        connections.add(c);
        servePending();
        // Envoy's CodecClient arms the idle timer at construction: a connection whose pending requests were
        // cancelled (or went elsewhere) while it connected still closes after idle_timeout.
        c.startIdleTimerIfIdle();
    }

    void onConnectFailed(Http2Connection c, ResetReason reason, String detail) {
        connecting.remove(c);
        pending.failAll(reason, detail, true);
    }

    /** The connection's limit changed (peer SETTINGS, GOAWAY). */
    void onCapacityChanged(Http2Connection c) {
        servePending();
    }

    /** A stream of {@code c} closed. */
    void onStreamDone(Http2Connection c) {
        servePending();
    }

    /** A connected connection closed (by either side). */
    void onClosed(Http2Connection c) {
        connections.remove(c);
        servePending();
    }

    boolean draining() {
        return draining;
    }

    /**
     * Takes no new stream: idle connections close now, busy ones when their streams end; pending requests fail
     * with {@link ResetReason#CONNECTION_TERMINATION}.
     */
    void drain() {
        draining = true;
        for (Http2Connection c : new ArrayList<>(connections)) {
            c.drain();
        }
        pending.failAll(ResetReason.CONNECTION_TERMINATION, "", false);
    }
}
