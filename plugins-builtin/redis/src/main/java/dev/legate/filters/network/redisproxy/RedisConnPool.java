package dev.legate.filters.network.redisproxy;

import dev.legate.api.Dispatcher;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.UpstreamCluster;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The upstream connections of one listener's redis_proxy config: per event loop, one
 * {@link RedisUpstreamClient} per host and protocol (RESP2, or RESP3 for clients that said {@code HELLO 3}),
 * as Envoy's per-worker {@code ConnPool::InstanceImpl::ThreadLocalPool}. Workers are found by the calling
 * thread (an event loop keeps its thread); a worker's map is touched only on its loop.
 */
final class RedisConnPool implements AutoCloseable {

    private final RedisProxySettings settings;
    private final Map<Thread, Worker> workers = new ConcurrentHashMap<>();
    private volatile boolean closed;

    RedisConnPool(RedisProxySettings settings) {
        this.settings = settings;
    }

    /** The calling event loop's worker; {@code dispatcher} is the caller's (same loop). */
    Worker worker(Dispatcher dispatcher) {
        Thread t = Thread.currentThread();
        Worker w = workers.get(t);
        if (w == null) {
            w = new Worker(dispatcher);
            workers.put(t, w);
        }
        return w;
    }

    /** Closes every worker's connections, each on its own loop. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers.values()) {
            w.dispatcher.execute(w::closeAll);
        }
    }

    /** One event loop's clients. Confined to that loop. */
    final class Worker {
        private final Dispatcher dispatcher;
        private final Map<Host, RedisUpstreamClient> resp2 = new HashMap<>();
        private final Map<Host, RedisUpstreamClient> resp3 = new HashMap<>();

        Worker(Dispatcher dispatcher) {
            this.dispatcher = dispatcher;
        }

        Dispatcher dispatcher() {
            return dispatcher;
        }

        /** The client for {@code host} of {@code cluster} speaking RESP3 or RESP2, opened on first use. */
        RedisUpstreamClient client(UpstreamCluster cluster, Host host, boolean useResp3, ByteBufAllocator alloc) {
            Map<Host, RedisUpstreamClient> m = useResp3 ? resp3 : resp2;
            RedisUpstreamClient c = m.get(host);
            if (c == null || c.isClosed()) {
                c = new RedisUpstreamClient(this, cluster, host, useResp3, settings, alloc);
                if (!c.isClosed()) {
                    m.put(host, c);
                }
                if (closed) {
                    dispatcher.execute(this::closeAll);
                }
            }
            return c;
        }

        void remove(RedisUpstreamClient c) {
            Map<Host, RedisUpstreamClient> m = c.resp3() ? resp3 : resp2;
            m.remove(c.host(), c);
        }

        void closeAll() {
            List<RedisUpstreamClient> all = new ArrayList<>(resp2.values());
            all.addAll(resp3.values());
            for (RedisUpstreamClient c : all) {
                c.close();
            }
        }
    }
}
