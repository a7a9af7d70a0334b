package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

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
 * Fakes of the host side of a {@link NetworkFilter} — the downstream {@link Connection}, the
 * {@link NetworkFilterCallbacks}, a {@link ClusterManager} of {@link UpstreamCluster}s whose TCP pools the test
 * completes by hand, and the upstream {@link TcpUpstreamConnection}s — for driving a network filter without sockets
 * (what {@link HttpFilterHarness} is for HTTP filters).
 *
 * <pre>{@code
 * FakeClusterManager clusters = new FakeClusterManager();
 * FakeCluster cluster = clusters.add(new FakeCluster("backend", context.statsStore().root(), FakeHost.of(6379)));
 * FakeConnection conn = new FakeConnection();
 * conn.filter = factory.create(config, context).newFilter(new FakeCallbacks(conn, clusters));
 * conn.filter.onNewConnection();
 * conn.receive("PING\r\n", false);                 // downstream bytes
 * FakeUpstream upstream = cluster.lastConnect().ready();  // the pool's connect succeeds
 * upstream.send("+PONG\r\n", false);              // upstream bytes
 * assertThat(conn.writtenString()).isEqualTo("+PONG\r\n");
 * }</pre>
 *
 * <h2>Contract (the SPI's, as the host keeps it)</h2>
 * <ul>
 *   <li>Buffers handed to {@code write} are <em>transferred</em>: their bytes are recorded in {@link FakeEnd#written}
 *       and the buffer released (dropped unread once the end is closed).</li>
 *   <li>{@code close} records its {@link CloseType} and tells the filter {@code LOCAL_CLOSE} at once;
 *       {@link FakeEnd#remoteClose()} plays the peer closing ({@code REMOTE_CLOSE}).</li>
 *   <li>{@code readDisable} is counted ({@link FakeEnd#readDisables}: +1 per disable, -1 per enable).</li>
 *   <li>{@link FakeConnection#receive} lends the buffer to the filter for the call and releases it after, as the
 *       host's socket reads do; {@link FakeUpstream#send} transfers it (the test keeps it to check it was
 *       released).</li>
 *   <li>{@link FakeCluster#chooseHost} picks hosts round robin; its TCP pools record each connect as a
 *       {@link PendingConnect}, which the test completes with {@link PendingConnect#ready()} or
 *       {@link PendingConnect#fail}. HTTP pools are not faked.</li>
 * </ul>
 *
 * <p>Fields are public and mutable on purpose: tests read and set them directly. Single-threaded: the test's thread
 * plays the event loop; timers run on the connection's {@link ManualDispatcher}.
 */
public final class NetworkFilterFakes {

    private NetworkFilterFakes() {
    }

    /** A pooled direct buffer holding {@code s}, one byte per char (ISO-8859-1: byte-exact); the caller owns it. */
    public static ByteBuf buf(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer();
        b.writeCharSequence(s, StandardCharsets.ISO_8859_1);
        return b;
    }

    /**
     * What the downstream connection and an upstream connection share: bytes written are recorded and released
     * (dropped once closed), {@code close} records its type and tells the filter {@code LOCAL_CLOSE} at once,
     * {@code readDisable} is counted.
     */
    public abstract static class FakeEnd {
        /** Every byte written to this end while open, in order. */
        public final ByteArrayOutputStream written = new ByteArrayOutputStream();
        /** False once either side closed. */
        public boolean open = true;
        /** How the filter closed this end; null while it has not. */
        public CloseType closeType;
        /** Whether a write carried {@code endStream}. */
        public boolean writeEnded;
        /** {@code readDisable(true)} calls minus {@code readDisable(false)} calls. */
        public int readDisables;

        /** Tells the filter about {@code event} on this end. */
        public abstract void onEvent(ConnectionEvent event);

        /** The peer closes: the end is closed and the filter told {@code REMOTE_CLOSE}. */
        public void remoteClose() {
            open = false;
            onEvent(ConnectionEvent.REMOTE_CLOSE);
        }

        /** {@link #written} as text, one char per byte (ISO-8859-1: byte-exact). */
        public String writtenString() {
            return written.toString(StandardCharsets.ISO_8859_1);
        }

        /** Records {@code data}'s bytes (unless closed) and releases it: the buffer is transferred. */
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

        /** Records {@code type} and tells the filter {@code LOCAL_CLOSE}, once; later calls do nothing. */
        public void close(CloseType type) {
            if (!open) {
                return;
            }
            open = false;
            closeType = type;
            onEvent(ConnectionEvent.LOCAL_CLOSE);
        }

        /** Counts the call in {@link #readDisables}. */
        public void readDisable(boolean disable) {
            readDisables += disable ? 1 : -1;
        }
    }

    /**
     * The downstream connection (id 7, addresses from {@link TestStreamInfo#forConnection()}); set {@link #filter}
     * to the filter under test before driving it.
     */
    public static final class FakeConnection extends FakeEnd implements Connection {
        /** The connection's event loop; its clock starts at 1 ms (in nanoseconds). */
        public final ManualDispatcher dispatcher = new ManualDispatcher(1_000_000L);
        /** The connection's stream info. */
        public final TestStreamInfo info = TestStreamInfo.forConnection();
        /** Watermark callbacks the filter registered, in order. */
        public final List<WatermarkCallbacks> watermarks = new ArrayList<>();
        /** The filter under test, told about data and events on this connection. */
        public NetworkFilter filter;
        /** What {@link #isWritable()} answers. */
        public boolean writable = true;

        /**
         * Delivers {@code s} from the peer as the host does: the buffer is lent to the filter for the call and
         * released after it. Returns the (released) buffer, for refCnt checks.
         */
        public ByteBuf receive(String s, boolean endStream) {
            ByteBuf b = buf(s);
            filter.onData(b, endStream);
            b.release();
            return b;
        }

        @Override
        public void onEvent(ConnectionEvent event) {
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

    /** The filter's callbacks: its connection and cluster manager; {@code continueReading} does nothing. */
    public static final class FakeCallbacks implements NetworkFilterCallbacks {
        /** The downstream connection. */
        public final FakeConnection connection;
        /** The clusters the filter sees. */
        public final FakeClusterManager clusters;

        /** Callbacks over {@code connection} and {@code clusters}. */
        public FakeCallbacks(FakeConnection connection, FakeClusterManager clusters) {
            this.connection = requireNonNull(connection, "connection");
            this.clusters = requireNonNull(clusters, "clusters");
        }

        @Override public Connection connection() { return connection; }
        @Override public void continueReading() { }
        @Override public ClusterManager clusterManager() { return clusters; }
    }

    /** Clusters by name; a name not added is unknown ({@code cluster} answers null). */
    public static final class FakeClusterManager implements ClusterManager {
        /** The clusters, by name. */
        public final Map<String, FakeCluster> clusters = new HashMap<>();

        /** Adds {@code c} under its name and returns it. */
        public FakeCluster add(FakeCluster c) {
            clusters.put(c.name, c);
            return c;
        }

        @Override public UpstreamCluster cluster(String name) { return clusters.get(name); }
        @Override public Set<String> clusterNames() { return clusters.keySet(); }
    }

    /** A host of weight 1 with no active requests. */
    public record FakeHost(InetSocketAddress address) implements Host {
        /** The host {@code 127.0.0.1:port}. */
        public static FakeHost of(int port) {
            return new FakeHost(new InetSocketAddress("127.0.0.1", port));
        }

        @Override public String addressString() { return "127.0.0.1:" + address.getPort(); }
        @Override public String hostname() { return ""; }
        @Override public int weight() { return 1; }
        @Override public long activeRequests() { return 0; }
    }

    /** A connect request made to a fake TCP pool; the test completes it with {@link #ready()} or {@link #fail}. */
    public static final class PendingConnect implements Cancellable {
        /** The host the pool connects to. */
        public final FakeHost host;
        /** The filter's callbacks for this connect. */
        public final TcpUpstreamCallbacks callbacks;
        /** The dispatcher the pool was asked for with. */
        public final Dispatcher dispatcher;
        /** Whether the filter cancelled the request. */
        public boolean cancelled;
        /** The upstream connection once {@link #ready()} was called. */
        public FakeUpstream upstream;

        /** A request for {@code host}, answered through {@code callbacks}. */
        public PendingConnect(FakeHost host, TcpUpstreamCallbacks callbacks, Dispatcher dispatcher) {
            this.host = host;
            this.callbacks = callbacks;
            this.dispatcher = dispatcher;
        }

        /** The connect succeeds: the filter gets {@code onPoolReady} with a new {@link FakeUpstream}. */
        public FakeUpstream ready() {
            upstream = new FakeUpstream(callbacks);
            callbacks.onPoolReady(upstream, host);
            return upstream;
        }

        /** The connect fails with {@code reason} ("delayed connect error: 111", Envoy's ECONNREFUSED text). */
        public void fail(ResetReason reason) {
            callbacks.onPoolFailure(reason, "delayed connect error: 111", host);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /**
     * A cluster of fixed hosts chosen round robin, stats under {@code cluster.<name>.}, no resource limits, a 5 s
     * connect timeout and a 1 MiB buffer limit. Its TCP pools record connects in {@link #connects}.
     */
    public static final class FakeCluster implements UpstreamCluster {
        /** The cluster's name. */
        public final String name;
        /** The cluster's stats scope. */
        public final Stats stats;
        /** The hosts, in round-robin order; empty means no healthy host ({@code chooseHost} answers null). */
        public final List<FakeHost> hosts = new ArrayList<>();
        /** Every connect made to this cluster's TCP pools, in order. */
        public final List<PendingConnect> connects = new ArrayList<>();
        /** How often {@code chooseHost} was called with hosts present. */
        public int chooseHostCalls;

        /** A cluster {@code name} of {@code hosts}, its stats scoped {@code cluster.<name>} under {@code root}. */
        public FakeCluster(String name, Stats root, FakeHost... hosts) {
            this.name = requireNonNull(name, "name");
            this.stats = root.scope("cluster." + name);
            this.hosts.addAll(List.of(hosts));
        }

        /** The latest connect made to this cluster. */
        public PendingConnect lastConnect() {
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

        /** Not faked: throws {@link UnsupportedOperationException}. */
        @Override
        public HttpConnectionPool httpConnectionPool(Host host, Dispatcher dispatcher) {
            throw new UnsupportedOperationException("HTTP connection pools are not faked in NetworkFilterFakes");
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

    /** One upstream connection; bytes the filter writes to it are recorded and released. */
    public static final class FakeUpstream extends FakeEnd implements TcpUpstreamConnection {
        /** The filter's callbacks for this connection. */
        public final TcpUpstreamCallbacks callbacks;
        /** Every buffer {@link #send} handed to the filter, for refCnt checks. */
        public final List<ByteBuf> received = new ArrayList<>();

        /** An open upstream connection reporting to {@code callbacks}. */
        public FakeUpstream(TcpUpstreamCallbacks callbacks) {
            this.callbacks = requireNonNull(callbacks, "callbacks");
        }

        /** Bytes from the upstream server, <em>transferred</em> to the filter; returns the buffer for refCnt checks. */
        public ByteBuf send(String s, boolean endStream) {
            ByteBuf b = buf(s);
            received.add(b);
            callbacks.onUpstreamData(b, endStream);
            return b;
        }

        @Override
        public void onEvent(ConnectionEvent event) {
            callbacks.onEvent(event);
        }

        @Override public boolean isWritable() { return true; }
    }
}
