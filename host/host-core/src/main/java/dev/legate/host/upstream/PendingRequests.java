package dev.legate.host.upstream;

import dev.legate.api.Cancellable;
import dev.legate.api.upstream.HttpConnectionPool.PoolCallbacks;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The pending requests of one HTTP pool (HTTP/1 or HTTP/2; Envoy's {@code ConnPoolImplBase} pending streams,
 * source/common/conn_pool/conn_pool_base.cc): oldest first, bounded by the cluster's
 * {@code max_pending_requests}, with {@code upstream_rq_pending_total|active|overflow|failure_eject} and
 * {@code upstream_rq_cancelled}. Confined to the pool's loop, except {@link Pending#cancel()}, which may be
 * called from any thread and then runs on the loop.
 */
final class PendingRequests {

    private final ClusterImpl cluster;
    private final HostImpl host;
    private final EventLoop loop;
    private final ClusterStats stats;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();

    PendingRequests(ClusterImpl cluster, HostImpl host, EventLoop loop) {
        this.cluster = cluster;
        this.host = host;
        this.loop = loop;
        this.stats = cluster.stats;
    }

    /**
     * Queues a request, or fails it at once with {@link ResetReason#OVERFLOW} ({@code upstream_rq_pending_overflow})
     * when {@code max_pending_requests} are already pending and returns {@code null}.
     */
    Pending add(UpstreamResponseHandler handler, PoolCallbacks callbacks) {
        if (!cluster.resources.pendingRequests.tryAcquire()) {
            stats.rqPendingOverflow.inc();
            callbacks.onPoolFailure(ResetReason.OVERFLOW, "", host);
            return null;
        }
        Pending p = new Pending(handler, callbacks);
        queue.addLast(p);
        stats.rqPendingTotal.inc();
        stats.rqPendingActive.inc();
        return p;
    }

    int size() {
        return queue.size();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** The oldest pending request, taken off the queue and out of the pending counts; {@code null} when none. */
    Pending poll() {
        Pending p = queue.pollFirst();
        if (p != null) {
            release(p);
        }
        return p;
    }

    /**
     * Fails every pending request with {@code reason} (after taking them all off the queue, so the callbacks may
     * call back into the pool); {@code eject}: count them in {@code upstream_rq_pending_failure_eject} (a connect
     * failure, Envoy's {@code purgePendingStreams}).
     */
    void failAll(ResetReason reason, String detail, boolean eject) {
        List<Pending> failed = new ArrayList<>(queue);
        queue.clear();
        for (Pending p : failed) {
            release(p);
            if (eject) {
                stats.rqPendingFailureEject.inc();
            }
        }
        for (Pending p : failed) {
            p.callbacks.onPoolFailure(reason, detail, host);
        }
    }

    /**
     * Takes a {@code max_connections} slot for a new connection: {@code false} ({@code upstream_cx_overflow})
     * when the cluster is at its limit and the pool already has a connection, open or opening; a pool with none
     * still opens one over the limit, as Envoy does, so its pending requests cannot starve.
     */
    static boolean acquireConnection(ClusterImpl cluster, boolean poolHasConnections) {
        if (cluster.resources.connections.tryAcquire()) {
            return true;
        }
        cluster.stats.cxOverflow.inc();
        if (poolHasConnections) {
            return false;
        }
        cluster.resources.connections.forceAcquire();
        return true;
    }

    private void release(Pending p) {
        p.done = true;
        cluster.resources.pendingRequests.release();
        stats.rqPendingActive.dec();
    }

    /** A request waiting for a connection or stream; {@link #cancel()} from any thread. */
    final class Pending implements Cancellable {
        final UpstreamResponseHandler handler;
        final PoolCallbacks callbacks;
        private boolean done;

        Pending(UpstreamResponseHandler handler, PoolCallbacks callbacks) {
            this.handler = handler;
            this.callbacks = callbacks;
        }

        /** Takes the request off the queue ({@code upstream_rq_cancelled}); no callback follows. */
        @Override
        public void cancel() {
            if (done) {
                return;
            }
            if (loop.inEventLoop()) {
                cancel0();
            } else {
                loop.execute(this::cancel0);
            }
        }

        private void cancel0() {
            if (!done && queue.remove(this)) {
                release(this);
                stats.rqCancelled.inc();
            }
        }
    }
}
