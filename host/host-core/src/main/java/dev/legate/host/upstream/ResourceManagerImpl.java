package dev.legate.host.upstream;

import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ResourceManager;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster's circuit breakers for the default priority (Envoy's {@code ResourceManagerImpl}): process-wide
 * counts shared by every event loop, updated with atomics, never locks. Besides the SPI's requests and
 * retries it holds the connection and pending-request counts the pools use. Gauges
 * {@code circuit_breakers.default.cx_open|rq_pending_open|rq_open|rq_retry_open} are 1 while at the limit.
 */
final class ResourceManagerImpl implements ResourceManager {

    /** One bounded count. */
    static final class Resource {
        private final long max;
        private final AtomicLong count = new AtomicLong();
        private final Gauge open;

        Resource(long max, Gauge open) {
            this.max = max;
            this.open = open;
        }

        /** Takes one unit; {@code false} (and nothing taken) when the count is at {@code max}. */
        boolean tryAcquire() {
            long n = count.incrementAndGet();
            if (n > max) {
                count.decrementAndGet();
                open.set(1);
                return false;
            }
            if (n == max) {
                open.set(1);
            }
            return true;
        }

        /** Takes one unit even above the limit (Envoy lets a pool with no connection open one). */
        void forceAcquire() {
            count.incrementAndGet();
        }

        void release() {
            long n = count.decrementAndGet();
            if (n == max - 1) {
                open.set(0);
            }
        }

        long max() {
            return max;
        }

        long count() {
            return count.get();
        }
    }

    final Resource connections;
    final Resource pendingRequests;
    final Resource requests;
    final Resource retries;

    ResourceManagerImpl(ClusterSettings.Thresholds t, Stats clusterScope) {
        Stats cb = clusterScope.scope("circuit_breakers.default");
        connections = new Resource(t.maxConnections(), cb.gauge("cx_open"));
        pendingRequests = new Resource(t.maxPendingRequests(), cb.gauge("rq_pending_open"));
        requests = new Resource(t.maxRequests(), cb.gauge("rq_open"));
        retries = new Resource(t.maxRetries(), cb.gauge("rq_retry_open"));
    }

    // ResourceManager

    @Override
    public boolean tryAcquireRequest() {
        return requests.tryAcquire();
    }

    @Override
    public void releaseRequest() {
        requests.release();
    }

    @Override
    public boolean tryAcquireRetry() {
        return retries.tryAcquire();
    }

    @Override
    public void releaseRetry() {
        retries.release();
    }
}
