package dev.legate.filters.network.redisproxy;

import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.Connection;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.ResourceManager;
import dev.legate.api.upstream.TcpConnectionPool;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.TestStreamInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Small fakes of the host side of a network filter (connection, callbacks, clusters, TCP pools), written
 * against the SPI contract: buffers handed to {@code write} are released after their bytes are recorded,
 * {@code close} tells the filter {@code LOCAL_CLOSE} at once, {@code readDisable} is counted.
 */
final class Fakes {

    private Fakes() {
    }

    /** A pooled buffer with {@code s}, as the host's socket reads make them. */
    static ByteBuf buf(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer();
        b.writeCharSequence(s, StandardCharsets.US_ASCII);
        return b;
    }

    /**
     * What the downstream connection and an upstream connection share: bytes written are recorded and released
     * (dropped once closed), {@code close} records its type and tells the filter {@code LOCAL_CLOSE} at once,
     * {@code readDisable} is counted.
     */
    abstract static class FakeEnd {
        final ByteArrayOutputStream written = new ByteArrayOutputStream();
        boolean open = true;
        CloseType closeType;
        boolean writeEnded;
        int readDisables;

        /** Tells the filter about {@code event} on this end. */
        abstract void onEvent(ConnectionEvent event);

        /** The peer closes. */
        void remoteClose() {
            open = false;
            onEvent(ConnectionEvent.REMOTE_CLOSE);
        }

        String writtenString() {
            return written.toString(StandardCharsets.US_ASCII);
        }

        public void write(ByteBuf data, boolean endStream) {
            if (!open) {
                data.release();
                return;
            }
            byte[] bytes = new byte[data.readableBytes()];
            data.getBytes(data.readerIndex(), bytes);
            written.writeBytes(bytes);
            data.release();
            writeEnded |= endStream;
        }

        public void close(CloseType type) {
            if (!open) {
                return;
            }
            open = false;
            closeType = type;
            onEvent(ConnectionEvent.LOCAL_CLOSE);
        }

        public void readDisable(boolean disable) {
            readDisables += disable ? 1 : -1;
        }
    }

    /** The downstream connection. */
    static final class FakeConnection extends FakeEnd implements Connection {
        final ManualDispatcher dispatcher = new ManualDispatcher(1_000_000L);
        final TestStreamInfo info = TestStreamInfo.forConnection();
        final List<WatermarkCallbacks> watermarks = new ArrayList<>();
        NetworkFilter filter;
        boolean writable = true;

        /** Delivers {@code s} from the peer, as the host does: the buffer is borrowed, released after the call. */
        ByteBuf receive(String s, boolean endStream) {
            ByteBuf b = buf(s);
            filter.onData(b, endStream);
            b.release();
            return b;
        }

        @Override
        void onEvent(ConnectionEvent event) {
            filter.onConnectionEvent(event);
        }

        @Override public long id() { return 7; }
        @Override public InetSocketAddress remoteAddress() { return info.downstreamRemoteAddress(); }
        @Override public InetSocketAddress localAddress() { return info.downstreamLocalAddress(); }
        @Override public Dispatcher dispatcher() { return dispatcher; }
        @Override public TestStreamInfo streamInfo() { return info; }
        @Override public boolean isWritable() { return writable; }
        @Override public void addWatermarkCallbacks(WatermarkCallbacks callbacks) { watermarks.add(callbacks); }
        @Override public boolean isOpen() { return open; }
    }

    static final class FakeCallbacks implements NetworkFilterCallbacks {
        final FakeConnection connection;
        final FakeClusterManager clusters;

        FakeCallbacks(FakeConnection connection, FakeClusterManager clusters) {
            this.connection = connection;
            this.clusters = clusters;
        }

        @Override public Connection connection() { return connection; }
        @Override public void continueReading() { }
        @Override public ClusterManager clusterManager() { return clusters; }
    }

    static final class FakeClusterManager implements ClusterManager {
        final Map<String, FakeCluster> clusters = new HashMap<>();

        FakeCluster add(FakeCluster c) {
            clusters.put(c.name, c);
            return c;
        }

        @Override public UpstreamCluster cluster(String name) { return clusters.get(name); }
        @Override public Set<String> clusterNames() { return clusters.keySet(); }
    }

    record FakeHost(InetSocketAddress address) implements Host {
        static FakeHost of(int port) {
            return new FakeHost(new InetSocketAddress("127.0.0.1", port));
        }

        @Override public String addressString() { return "127.0.0.1:" + address.getPort(); }
        @Override public String hostname() { return ""; }
        @Override public int weight() { return 1; }
        @Override public long activeRequests() { return 0; }
    }

    /** A connect request made to a fake pool; the test completes it. */
    static final class PendingConnect implements Cancellable {
        final FakeHost host;
        final TcpUpstreamCallbacks callbacks;
        final Dispatcher dispatcher;
        boolean cancelled;
        FakeUpstream upstream;

        PendingConnect(FakeHost host, TcpUpstreamCallbacks callbacks, Dispatcher dispatcher) {
            this.host = host;
            this.callbacks = callbacks;
            this.dispatcher = dispatcher;
        }

        FakeUpstream ready() {
            upstream = new FakeUpstream(callbacks);
            callbacks.onPoolReady(upstream, host);
            return upstream;
        }

        void fail(ResetReason reason) {
            callbacks.onPoolFailure(reason, "delayed connect error: 111", host);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    static final class FakeCluster implements UpstreamCluster {
        final String name;
        final Stats stats;
        final List<FakeHost> hosts = new ArrayList<>();
        final List<PendingConnect> connects = new ArrayList<>();
        int chooseHostCalls;

        FakeCluster(String name, Stats root, FakeHost... hosts) {
            this.name = name;
            this.stats = root.scope("cluster." + name);
            this.hosts.addAll(List.of(hosts));
        }

        PendingConnect lastConnect() {
            return connects.get(connects.size() - 1);
        }

        @Override public String name() { return name; }
        @Override public Stats stats() { return stats; }

        @Override
        public ResourceManager resourceManager() {
            return new ResourceManager() {
                @Override public boolean tryAcquireRequest() { return true; }
                @Override public void releaseRequest() { }
                @Override public boolean tryAcquireRetry() { return true; }
                @Override public void releaseRetry() { }
            };
        }

        @Override public long connectTimeoutMillis() { return 5000; }
        @Override public int perConnectionBufferLimitBytes() { return 1024 * 1024; }

        @Override
        public Host chooseHost(LoadBalancerContext context) {
            if (hosts.isEmpty()) {
                return null;
            }
            return hosts.get(chooseHostCalls++ % hosts.size());
        }

        @Override
        public HttpConnectionPool httpConnectionPool(Host host, Dispatcher dispatcher) {
            throw new UnsupportedOperationException("no HTTP in a redis_proxy test");
        }

        @Override
        public TcpConnectionPool tcpConnectionPool(Host host, Dispatcher dispatcher) {
            return callbacks -> {
                PendingConnect p = new PendingConnect((FakeHost) host, callbacks, dispatcher);
                connects.add(p);
                return p;
            };
        }
    }

    /** One upstream connection; bytes written to it are recorded and released. */
    static final class FakeUpstream extends FakeEnd implements TcpUpstreamConnection {
        final TcpUpstreamCallbacks callbacks;
        final List<ByteBuf> received = new ArrayList<>();

        FakeUpstream(TcpUpstreamCallbacks callbacks) {
            this.callbacks = callbacks;
        }

        /** Bytes from the upstream server, transferred to the filter. */
        ByteBuf send(String s, boolean endStream) {
            ByteBuf b = buf(s);
            received.add(b);
            callbacks.onUpstreamData(b, endStream);
            return b;
        }

        @Override
        void onEvent(ConnectionEvent event) {
            callbacks.onEvent(event);
        }

        @Override public boolean isWritable() { return true; }
    }
}
