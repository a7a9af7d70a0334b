package dev.legate.filters.network.tcpproxy;

import dev.legate.api.AccessLogger;
import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.StateKey;
import dev.legate.api.StreamInfo;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.Connection;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import dev.legate.api.upstream.UpstreamCluster;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Proxies one downstream connection to one upstream host (Envoy's {@code TcpProxy::Filter},
 * {@code source/common/tcp_proxy/tcp_proxy.cc}). One instance per connection; every method runs on the
 * connection's event loop, and the upstream connection comes from that loop's TCP pool.
 *
 * <h2>Life of a connection</h2>
 * <ol>
 *   <li>{@link #onNewConnection()}: {@code downstream_cx_total}++, downstream reads disabled until the
 *       upstream is connected, cluster picked (missing: {@code downstream_cx_no_route}++, flag {@code NR},
 *       close without flush), host chosen by the cluster's load balancer (none: flag {@code UH}, cluster
 *       {@code upstream_cx_none_healthy}++, close), connection asked from the pool.</li>
 *   <li>Connect failure: flag {@code UF} and a new attempt with a new host pick while
 *       {@code max_connect_attempts} allows; then cluster {@code upstream_cx_connect_attempts_exceeded}++,
 *       flag {@code URX}, close. Pool overflow: flag {@code UO}, close.</li>
 *   <li>Connected: reads re-enabled, upstream host and cluster recorded in the stream info, idle timer
 *       armed. Bytes flow both ways unchanged; a FIN ({@code endStream}) is passed on as a half-close, and
 *       once both directions have ended both connections close after flushing.</li>
 *   <li>Upstream closes: the downstream is closed after its pending bytes are written ({@code FLUSH_WRITE}).
 *       Downstream closes: the upstream is closed with {@code FLUSH_WRITE} when the peer closed, at once
 *       when this side closed.</li>
 *   <li>{@code idle_timeout} with no byte either way: {@code idle_timeout}++, both closed without flush.
 *       The timer is not re-armed per chunk: the filter notes the time of the last byte and, when the
 *       timer fires early, re-arms it for the remainder.</li>
 *   <li>When the downstream connection ends, one access log entry (headers {@code null}).</li>
 * </ol>
 *
 * <h2>Flow control (Envoy's watermarks)</h2>
 * The upstream's write buffer above its high watermark disables downstream reads
 * ({@code downstream_flow_control_paused_reading_total}++) until it drains below the low watermark
 * ({@code ..._resumed_reading_total}++). The downstream's write buffer above high disables upstream reads
 * (cluster {@code upstream_flow_control_paused_reading_total}/{@code ..._resumed_reading_total}).
 *
 * <h2>Buffers</h2>
 * Downstream bytes arrive borrowed in {@link #onData}: the filter consumes them (advances the reader index)
 * and hands a retained slice to the upstream, whose {@code write} releases it. Upstream bytes arrive
 * transferred and are handed on to {@link Connection#write}, which releases them. Bytes that arrive before
 * the upstream is connected (the host may deliver what it read before reads were disabled) are kept as
 * retained slices and written on connect, or released on close.
 *
 * <h2>Byte counts in the access log</h2>
 * The SPI's {@link StreamInfo} has no setters for {@code bytesReceived}/{@code bytesSent}; the filter keeps
 * its own counts and logs through a view that reports the larger of the host's and its own.
 */
final class TcpProxyFilter implements NetworkFilter {

    private final TcpProxySettings settings;
    private final TcpProxyStats stats;
    private final NetworkFilterCallbacks callbacks;
    private final Connection connection;
    private final Dispatcher dispatcher;
    private final StreamInfo info;

    private UpstreamCluster cluster;
    /** The connect attempt whose callbacks are live; {@code null} when none (events of others are stale). */
    private Attempt attempt;
    private TcpUpstreamConnection upstream;
    private int connectAttempts;

    private boolean readDisabledForConnect;
    private boolean pausedByUpstream;
    private boolean downstreamAboveHigh;
    private boolean upstreamReadDisabled;
    private boolean downstreamEnded;
    private boolean upstreamEnded;
    /** This filter asked for the downstream to close, or it closed: no more work. */
    private boolean closing;
    /** {@link #onConnectionEvent} ran. */
    private boolean done;

    /** Bytes read before the upstream connected, as retained slices. */
    private ArrayDeque<ByteBuf> early;
    private boolean earlyEnd;

    private Dispatcher.Timer idleTimer;
    private long lastActivityMillis;

    private long rxBytes;
    private long txBytes;

    TcpProxyFilter(TcpProxySettings settings, NetworkFilterCallbacks callbacks) {
        this.settings = settings;
        this.stats = settings.stats();
        this.callbacks = callbacks;
        this.connection = callbacks.connection();
        this.dispatcher = connection.dispatcher();
        this.info = connection.streamInfo();
    }

    // NetworkFilter: ReadFilter

    /**
     * Starts the upstream connection. Returns {@code CONTINUE}: nothing follows a terminal filter, and a
     * chain resumed by an earlier filter together with data must hand that data to {@link #onData} (which
     * keeps it until the upstream is connected) rather than stop before it.
     */
    @Override
    public FilterStatus onNewConnection() {
        stats.downstreamCxTotal().inc();
        connection.addWatermarkCallbacks(new DownstreamWatermarks());
        connection.readDisable(true);
        readDisabledForConnect = true;

        String clusterName = settings.pickCluster();
        cluster = callbacks.clusterManager().cluster(clusterName);
        if (cluster == null) {
            stats.downstreamCxNoRoute().inc();
            info.setResponseFlag(ResponseFlag.NO_ROUTE_FOUND);
            closeDownstream(CloseType.NO_FLUSH);
            return FilterStatus.CONTINUE;
        }
        info.setUpstreamCluster(cluster.name());
        connectUpstream();
        return FilterStatus.CONTINUE;
    }

    /**
     * Downstream bytes: consumed, and written upstream as a retained slice.
     *
     * @param data borrowed; its reader index is advanced past the bytes taken
     */
    @Override
    public FilterStatus onData(ByteBuf data, boolean endStream) {
        if (closing || done) {
            return FilterStatus.STOP_ITERATION;
        }
        int n = data.readableBytes();
        rxBytes += n;
        stats.downstreamCxRxBytesTotal().add(n);
        touch();
        ByteBuf out = data.readRetainedSlice(n);
        if (endStream) {
            downstreamEnded = true;
        }
        if (upstream == null) {
            if (early == null) {
                early = new ArrayDeque<>(4);
            }
            early.add(out);
            earlyEnd |= endStream;
            return FilterStatus.STOP_ITERATION;
        }
        upstream.write(out, endStream);
        if (endStream) {
            maybeFinish();
        }
        return FilterStatus.STOP_ITERATION;
    }

    // NetworkFilter: ConnectionCallbacks

    @Override
    public void onConnectionEvent(ConnectionEvent event) {
        if (done) {
            return;
        }
        done = true;
        closing = true;
        cancelIdleTimer();
        releaseEarly();
        Attempt a = attempt;
        attempt = null;
        if (a != null && a.pending != null) {
            a.pending.cancel();
            a.pending = null;
        }
        TcpUpstreamConnection u = upstream;
        upstream = null;
        if (u != null) {
            // Envoy's TcpUpstream::onDownstreamEvent: the peer left, deliver what it sent; we closed: drop.
            u.close(event == ConnectionEvent.REMOTE_CLOSE ? CloseType.FLUSH_WRITE : CloseType.NO_FLUSH);
        }
        AccessLogger logger = settings.accessLogger();
        if (logger != AccessLogger.NONE) {
            logger.log(null, null, null, new LoggedStreamInfo(info, rxBytes, txBytes));
        }
    }

    // Upstream connection

    private void connectUpstream() {
        if (connectAttempts >= settings.maxConnectAttempts()) {
            cluster.stats().counter("upstream_cx_connect_attempts_exceeded").inc();
            info.setResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
            closeDownstream(CloseType.NO_FLUSH);
            return;
        }
        Host host = cluster.chooseHost(LoadBalancerContext.NONE);
        if (host == null) {
            info.setResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
            cluster.stats().counter("upstream_cx_none_healthy").inc();
            closeDownstream(CloseType.NO_FLUSH);
            return;
        }
        connectAttempts++;
        Attempt a = new Attempt();
        attempt = a;
        Cancellable pending = cluster.tcpConnectionPool(host, dispatcher).newConnection(a);
        if (!a.finished) {
            a.pending = pending;
        }
    }

    private void onUpstreamReady(TcpUpstreamConnection conn, Host host) {
        upstream = conn;
        info.setUpstreamHost(host.addressString());
        if (downstreamAboveHigh) {
            conn.readDisable(true);
            upstreamReadDisabled = true;
        }
        if (early != null) {
            ArrayDeque<ByteBuf> q = early;
            early = null;
            ByteBuf b;
            while ((b = q.poll()) != null) {
                if (upstream == null) {
                    b.release();
                    continue;
                }
                upstream.write(b, q.isEmpty() && earlyEnd);
            }
        }
        armIdleTimer();
        if (readDisabledForConnect && !closing) {
            readDisabledForConnect = false;
            connection.readDisable(false);
        }
        if (earlyEnd) {
            maybeFinish();
        }
    }

    private void onConnectFailure(ResetReason reason, Host host) {
        attempt = null;
        if (host != null) {
            info.setUpstreamHost(host.addressString());
        }
        if (reason == ResetReason.OVERFLOW) {
            info.setResponseFlag(ResponseFlag.UPSTREAM_OVERFLOW);
            closeDownstream(CloseType.NO_FLUSH);
            return;
        }
        info.setResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
        connectUpstream();
    }

    private void onUpstreamData(ByteBuf data, boolean endStream) {
        int n = data.readableBytes();
        txBytes += n;
        stats.downstreamCxTxBytesTotal().add(n);
        touch();
        if (endStream) {
            upstreamEnded = true;
        }
        connection.write(data, endStream);
        if (endStream) {
            maybeFinish();
        }
    }

    private void onUpstreamClosed() {
        attempt = null;
        upstream = null;
        closeDownstream(CloseType.FLUSH_WRITE);
    }

    /** Both directions ended (FIN each way): close both after flushing. */
    private void maybeFinish() {
        if (!downstreamEnded || !upstreamEnded || closing) {
            return;
        }
        TcpUpstreamConnection u = upstream;
        upstream = null;
        attempt = null;
        if (u != null) {
            u.close(CloseType.FLUSH_WRITE);
        }
        closeDownstream(CloseType.FLUSH_WRITE);
    }

    private void closeDownstream(CloseType type) {
        if (closing) {
            return;
        }
        closing = true;
        cancelIdleTimer();
        connection.close(type);
    }

    // Flow control

    private void onUpstreamAboveHighWatermark() {
        if (!pausedByUpstream && !closing) {
            pausedByUpstream = true;
            stats.downstreamFlowControlPausedReadingTotal().inc();
            connection.readDisable(true);
        }
    }

    private void onUpstreamBelowLowWatermark() {
        if (pausedByUpstream) {
            pausedByUpstream = false;
            stats.downstreamFlowControlResumedReadingTotal().inc();
            if (!closing) {
                connection.readDisable(false);
            }
        }
    }

    /** The downstream's write buffer crossed its watermarks: pause or resume reading the upstream. */
    private final class DownstreamWatermarks implements WatermarkCallbacks {
        @Override
        public void onAboveWriteBufferHighWatermark() {
            downstreamAboveHigh = true;
            if (upstream != null && !upstreamReadDisabled) {
                upstreamReadDisabled = true;
                cluster.stats().counter("upstream_flow_control_paused_reading_total").inc();
                upstream.readDisable(true);
            }
        }

        @Override
        public void onBelowWriteBufferLowWatermark() {
            downstreamAboveHigh = false;
            if (upstreamReadDisabled) {
                upstreamReadDisabled = false;
                cluster.stats().counter("upstream_flow_control_resumed_reading_total").inc();
                if (upstream != null) {
                    upstream.readDisable(false);
                }
            }
        }
    }

    // Idle timeout

    private void armIdleTimer() {
        if (settings.idleTimeoutEnabled() && !closing) {
            lastActivityMillis = dispatcher.currentTimeMillis();
            idleTimer = dispatcher.schedule(this::onIdleTimer, settings.idleTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void touch() {
        if (idleTimer != null) {
            lastActivityMillis = dispatcher.currentTimeMillis();
        }
    }

    private void onIdleTimer() {
        idleTimer = null;
        if (closing || done) {
            return;
        }
        long idle = dispatcher.currentTimeMillis() - lastActivityMillis;
        long timeout = settings.idleTimeoutMillis();
        if (idle < timeout) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, timeout - idle, TimeUnit.MILLISECONDS);
            return;
        }
        stats.idleTimeout().inc();
        TcpUpstreamConnection u = upstream;
        upstream = null;
        attempt = null;
        if (u != null) {
            u.close(CloseType.NO_FLUSH);
        }
        closeDownstream(CloseType.NO_FLUSH);
    }

    private void cancelIdleTimer() {
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
    }

    private void releaseEarly() {
        if (early != null) {
            ByteBuf b;
            while ((b = early.poll()) != null) {
                b.release();
            }
            early = null;
        }
    }

    /**
     * The callbacks of one connect attempt. Only the current attempt's events act; a late event of an
     * abandoned attempt releases its data or closes its connection.
     */
    private final class Attempt implements TcpUpstreamCallbacks {
        Cancellable pending;
        boolean finished;
        boolean ready;

        private boolean current() {
            return attempt == this && !closing && !done;
        }

        // TcpUpstreamCallbacks

        @Override
        public void onPoolReady(TcpUpstreamConnection conn, Host host) {
            finished = true;
            pending = null;
            if (!current()) {
                conn.close(CloseType.NO_FLUSH);
                return;
            }
            ready = true;
            onUpstreamReady(conn, host);
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            finished = true;
            pending = null;
            if (current()) {
                onConnectFailure(reason, host);
            }
        }

        @Override
        public void onUpstreamData(ByteBuf data, boolean endStream) {
            if (!current() || !ready) {
                data.release();
                return;
            }
            TcpProxyFilter.this.onUpstreamData(data, endStream);
        }

        @Override
        public void onEvent(ConnectionEvent event) {
            if (!current()) {
                return;
            }
            if (!ready) {
                finished = true;
                pending = null;
                onConnectFailure(ResetReason.REMOTE_CONNECTION_FAILURE, null);
                return;
            }
            onUpstreamClosed();
        }

        @Override
        public void onAboveWriteBufferHighWatermark() {
            if (current()) {
                onUpstreamAboveHighWatermark();
            }
        }

        @Override
        public void onBelowWriteBufferLowWatermark() {
            if (attempt == this) {
                onUpstreamBelowLowWatermark();
            }
        }
    }

    /** The connection's stream info with this filter's byte counts, for the access log. */
    private static final class LoggedStreamInfo implements StreamInfo {
        private final StreamInfo d;
        private final long rx;
        private final long tx;

        LoggedStreamInfo(StreamInfo delegate, long rx, long tx) {
            this.d = delegate;
            this.rx = rx;
            this.tx = tx;
        }

        @Override public long bytesReceived() { return Math.max(d.bytesReceived(), rx); }
        @Override public long bytesSent() { return Math.max(d.bytesSent(), tx); }
        @Override public long startTimeMillis() { return d.startTimeMillis(); }
        @Override public long startTimeNanos() { return d.startTimeNanos(); }
        @Override public String protocol() { return d.protocol(); }
        @Override public InetSocketAddress downstreamRemoteAddress() { return d.downstreamRemoteAddress(); }
        @Override public InetSocketAddress downstreamLocalAddress() { return d.downstreamLocalAddress(); }
        @Override public int responseCode() { return d.responseCode(); }
        @Override public String responseCodeDetails() { return d.responseCodeDetails(); }
        @Override public void setResponseCodeDetails(String details) { d.setResponseCodeDetails(details); }
        @Override public Set<ResponseFlag> responseFlags() { return d.responseFlags(); }
        @Override public void setResponseFlag(ResponseFlag flag) { d.setResponseFlag(flag); }
        @Override public String upstreamHost() { return d.upstreamHost(); }
        @Override public void setUpstreamHost(String hostAddress) { d.setUpstreamHost(hostAddress); }
        @Override public String upstreamCluster() { return d.upstreamCluster(); }
        @Override public void setUpstreamCluster(String clusterName) { d.setUpstreamCluster(clusterName); }
        @Override public String routeName() { return d.routeName(); }
        @Override public <T> T state(StateKey<T> key) { return d.state(key); }
        @Override public <T> void setState(StateKey<T> key, T value) { d.setState(key, value); }
    }
}
