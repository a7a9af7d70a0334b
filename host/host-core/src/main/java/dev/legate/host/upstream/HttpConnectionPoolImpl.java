package dev.legate.host.upstream;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One event loop's HTTP/1.1 connections to one host (Envoy's {@code Http1::ConnPoolImpl} on
 * {@code ConnPoolImplBase}): one stream per connection, keep-alive reuse of the most recently used idle
 * connection, no pipelining. Confined to {@link #loop}: no locks.
 *
 * <p>Limits, shared by every loop through the cluster's {@link ResourceManagerImpl}: a request that finds no
 * idle connection is pending, and fails at once with {@link ResetReason#OVERFLOW} when
 * {@code max_pending_requests} are already pending ({@code upstream_rq_pending_overflow}); a new connection is
 * opened per pending request unless {@code max_connections} is reached ({@code upstream_cx_overflow}), except
 * that a pool with no connection at all always opens one (as Envoy does, so pending requests cannot starve).
 * A connect failure fails every pending request of the pool, as in Envoy's {@code purgePendingStreams}.
 *
 * <p>Callbacks may run inside {@link #newStream}: {@code onPoolReady} when an idle connection is at hand,
 * {@code onPoolFailure} on overflow; otherwise later, on the loop.
 */
final class HttpConnectionPoolImpl implements HttpConnectionPool {

    private static final Cancellable NOOP = () -> { };

    final ClusterImpl cluster;
    final HostImpl host;
    final EventLoop loop;
    final ClusterStats stats;
    private final ArrayDeque<Http1Connection> ready = new ArrayDeque<>();
    private final PendingRequests pending;
    private int connecting;
    private int busy;
    private boolean draining;

    HttpConnectionPoolImpl(ClusterImpl cluster, HostImpl host, EventLoop loop) {
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
        if (cluster.isClosed()) {
            callbacks.onPoolFailure(ResetReason.LOCAL_CONNECTION_FAILURE, "cluster manager closed", host);
            return NOOP;
        }
        Http1Connection c;
        while ((c = ready.pollLast()) != null) {
            if (c.isActive()) {
                attach(c, responseHandler, callbacks);
                return NOOP;
            }
            // Closed by the server; its close event is still queued on the loop and will find it gone.
        }
        PendingRequests.Pending p = pending.add(responseHandler, callbacks);
        if (p == null) {
            return NOOP;
        }
        maybeConnect();
        return p;
    }

    /** Opens a connection when pending requests outnumber the connections being opened. */
    private void maybeConnect() {
        if (pending.size() <= connecting || draining || cluster.isClosed()) {
            return;
        }
        if (!PendingRequests.acquireConnection(cluster, connecting + busy + ready.size() > 0)) {
            return;
        }
        connecting++;
        new Http1Connection(this).connect();
    }

    private void attach(Http1Connection c, UpstreamResponseHandler handler, PoolCallbacks callbacks) {
        busy++;
        Http1Connection.Stream s = c.startStream(handler);
        callbacks.onPoolReady(s, host);
    }

    // From Http1Connection, on the loop.

    void onConnected(Http1Connection c) {
        connecting--;
        onIdle(c);
    }

    void onConnectFailed(Http1Connection c, ResetReason reason, String detail) {
        connecting--;
        pending.failAll(reason, detail, true);
    }

    /** The connection's stream ended; {@code reusable}: the connection may serve another request. */
    void onStreamDone(Http1Connection c, boolean reusable) {
        busy--;
        if (reusable) {
            onIdle(c);
        } else {
            c.close();
            maybeConnect();
        }
    }

    /** A busy connection closed under its stream. */
    void onBusyClosed(Http1Connection c) {
        busy--;
        maybeConnect();
    }

    /** An idle connection closed (by the server, or its idle timeout). */
    void onIdleClosed(Http1Connection c) {
        ready.remove(c);
        maybeConnect();
    }

    private void onIdle(Http1Connection c) {
        if (draining || cluster.isClosed()) {
            c.close();
            return;
        }
        PendingRequests.Pending p = pending.poll();
        if (p != null) {
            attach(c, p.handler, p.callbacks);
        } else {
            c.becomeIdle();
            ready.addLast(c);
        }
    }

    boolean draining() {
        return draining;
    }

    /** Closes idle connections; busy ones close when their stream ends. Pending requests keep waiting for them. */
    void drain() {
        draining = true;
        List<Http1Connection> idle = new ArrayList<>(ready);
        ready.clear();
        idle.forEach(Http1Connection::close);
    }
}
