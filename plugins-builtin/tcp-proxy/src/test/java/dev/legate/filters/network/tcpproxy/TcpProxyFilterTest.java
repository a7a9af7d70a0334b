package dev.legate.filters.network.tcpproxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.legate.api.AccessLogger;
import dev.legate.api.ResponseFlag;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ResetReason;
import dev.legate.testkit.LeakCheck;
import dev.legate.testkit.NetworkFilterFakes;
import dev.legate.testkit.NetworkFilterFakes.FakeCallbacks;
import dev.legate.testkit.NetworkFilterFakes.FakeCluster;
import dev.legate.testkit.NetworkFilterFakes.FakeClusterManager;
import dev.legate.testkit.NetworkFilterFakes.FakeConnection;
import dev.legate.testkit.NetworkFilterFakes.FakeHost;
import dev.legate.testkit.NetworkFilterFakes.FakeUpstream;
import dev.legate.testkit.NetworkFilterFakes.PendingConnect;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Filter tier: one {@link TcpProxyFilter} driven through fakes of the host (no sockets). */
@ExtendWith(LeakCheck.class)
class TcpProxyFilterTest {

    /** What the access logger got: one entry per connection, headers null, a snapshot of the stream info. */
    record Logged(boolean headersNull, EnumSet<ResponseFlag> flags, long rx, long tx, String host, String cluster) {
    }

    private final TestFactoryContext context = new TestFactoryContext();
    private final List<Logged> logged = new ArrayList<>();
    private final FakeClusterManager clusters = new FakeClusterManager();
    private final FakeConnection conn = new FakeConnection();
    private final List<ByteBuf> buffers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        context.accessLogger((req, resp, trailers, info) -> logged.add(snapshot(req, resp, trailers, info)));
    }

    private static Logged snapshot(HeaderMap req, HeaderMap resp, HeaderMap trailers, StreamInfo info) {
        EnumSet<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
        flags.addAll(info.responseFlags());
        return new Logged(req == null && resp == null && trailers == null, flags, info.bytesReceived(),
                info.bytesSent(), info.upstreamHost(), info.upstreamCluster());
    }

    private static TcpProxy.Builder config(String cluster) {
        return TcpProxy.newBuilder().setStatPrefix("ingress").setCluster(cluster)
                .addAccessLog(AccessLog.newBuilder().setName("envoy.access_loggers.stdout"));
    }

    private NetworkFilter start(TcpProxy config) {
        NetworkFilter filter = new TcpProxyFilterFactory().create(config, context)
                .newFilter(new FakeCallbacks(conn, clusters));
        conn.filter = filter;
        assertThat(filter.onNewConnection()).isEqualTo(FilterStatus.CONTINUE);
        return filter;
    }

    private long tcp(String name) {
        return context.statsStore().counter("tcp.ingress." + name);
    }

    private long clusterStat(String cluster, String name) {
        return context.statsStore().counter("cluster." + cluster + "." + name);
    }

    private FakeCluster cluster(String name, int... ports) {
        FakeHost[] hosts = new FakeHost[ports.length];
        for (int i = 0; i < ports.length; i++) {
            hosts[i] = FakeHost.of(ports[i]);
        }
        return clusters.add(new FakeCluster(name, context.statsStore().root(), hosts));
    }

    private void assertReleased() {
        for (ByteBuf b : buffers) {
            assertThat(b.refCnt()).as("refCnt of a proxied buffer").isZero();
        }
    }

    @Test
    void unknownClusterClosesWithNoRoute() {
        start(config("missing").build());

        assertThat(tcp("downstream_cx_total")).isEqualTo(1);
        assertThat(tcp("downstream_cx_no_route")).isEqualTo(1);
        assertThat(conn.open).isFalse();
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(conn.info.responseFlags()).containsExactly(ResponseFlag.NO_ROUTE_FOUND);
        assertThat(logged).hasSize(1);
        assertThat(logged.get(0).headersNull()).isTrue();
        assertThat(logged.get(0).flags()).containsExactly(ResponseFlag.NO_ROUTE_FOUND);
    }

    @Test
    void noHealthyHostClosesWithUh() {
        FakeCluster c = cluster("backend");
        start(config("backend").build());

        assertThat(clusterStat("backend", "upstream_cx_none_healthy")).isEqualTo(1);
        assertThat(c.connects).isEmpty();
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(conn.info.responseFlags()).containsExactly(ResponseFlag.NO_HEALTHY_UPSTREAM);
        assertThat(conn.info.upstreamCluster()).isEqualTo("backend");
        assertThat(logged).hasSize(1);
    }

    @Test
    void proxiesBothWaysWithHalfClose() {
        FakeCluster c = cluster("backend", 9001);
        NetworkFilter filter = start(config("backend").build());

        assertThat(conn.readDisables).as("reads disabled until the upstream connects").isEqualTo(1);
        FakeUpstream up = c.lastConnect().ready();
        assertThat(conn.readDisables).isZero();
        assertThat(conn.info.upstreamHost()).isEqualTo("127.0.0.1:9001");
        assertThat(conn.info.upstreamCluster()).isEqualTo("backend");

        buffers.add(conn.receive("hello", false));
        assertThat(up.writtenString()).isEqualTo("hello");
        buffers.add(up.send("world!", false));
        assertThat(conn.writtenString()).isEqualTo("world!");

        // Downstream FIN: half-close towards the upstream; the connection stays up for the reply.
        buffers.add(conn.receive("", true));
        assertThat(up.writeEnded).isTrue();
        assertThat(up.open).isTrue();
        assertThat(conn.open).isTrue();

        buffers.add(up.send("bye", true));
        assertThat(conn.writtenString()).isEqualTo("world!bye");
        assertThat(conn.writeEnded).isTrue();
        assertThat(up.closeType).isEqualTo(CloseType.FLUSH_WRITE);
        assertThat(conn.closeType).isEqualTo(CloseType.FLUSH_WRITE);

        assertThat(tcp("downstream_cx_rx_bytes_total")).isEqualTo(5);
        assertThat(tcp("downstream_cx_tx_bytes_total")).isEqualTo(9);
        assertThat(logged).hasSize(1);
        assertThat(logged.get(0)).isEqualTo(new Logged(true, EnumSet.noneOf(ResponseFlag.class), 5, 9,
                "127.0.0.1:9001", "backend"));
        ByteBuf late = NetworkFilterFakes.buf("late");
        assertThat(filter.onData(late, false)).isEqualTo(FilterStatus.STOP_ITERATION);
        assertThat(late.refCnt()).as("borrowed: not taken after close").isEqualTo(1);
        late.release();
        assertReleased();
    }

    @Test
    void upstreamCloseFlushesDownstreamAndDownstreamCloseFlushesUpstream() {
        FakeCluster c = cluster("backend", 9001, 9002);
        start(config("backend").build());
        FakeUpstream up = c.lastConnect().ready();
        buffers.add(up.send("last words", false));
        up.remoteClose();
        assertThat(conn.closeType).isEqualTo(CloseType.FLUSH_WRITE);
        assertThat(conn.writtenString()).isEqualTo("last words");

        FakeConnection conn2 = new FakeConnection();
        NetworkFilter filter2 = new TcpProxyFilterFactory().create(config("backend").build(), context)
                .newFilter(new FakeCallbacks(conn2, clusters));
        conn2.filter = filter2;
        filter2.onNewConnection();
        FakeUpstream up2 = c.lastConnect().ready();
        conn2.receive("request", false);
        conn2.remoteClose();
        assertThat(up2.closeType).isEqualTo(CloseType.FLUSH_WRITE);
        assertThat(up2.writtenString()).isEqualTo("request");
        assertThat(logged).hasSize(2);
        assertReleased();
    }

    @Test
    void connectFailureRetriesWithANewHostThenGivesUp() {
        FakeCluster c = cluster("backend", 9001, 9002);
        start(config("backend").setMaxConnectAttempts(UInt32Value.of(2)).build());

        PendingConnect first = c.lastConnect();
        assertThat(first.host.address().getPort()).isEqualTo(9001);
        first.fail(ResetReason.REMOTE_CONNECTION_FAILURE);
        assertThat(conn.open).as("a second attempt remains").isTrue();
        assertThat(c.connects).hasSize(2);
        assertThat(c.chooseHostCalls).isEqualTo(2);
        PendingConnect second = c.lastConnect();
        assertThat(second.host.address().getPort()).isEqualTo(9002);

        second.fail(ResetReason.CONNECTION_TIMEOUT);
        assertThat(c.connects).hasSize(2);
        assertThat(clusterStat("backend", "upstream_cx_connect_attempts_exceeded")).isEqualTo(1);
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(conn.info.responseFlags()).containsExactlyInAnyOrder(
                ResponseFlag.UPSTREAM_CONNECTION_FAILURE, ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
        assertThat(conn.info.upstreamHost()).isEqualTo("127.0.0.1:9002");
        assertThat(logged).hasSize(1);
    }

    @Test
    void connectFailureThenSuccessOnTheSecondAttempt() {
        FakeCluster c = cluster("backend", 9001, 9002);
        start(config("backend").setMaxConnectAttempts(UInt32Value.of(2)).build());
        c.lastConnect().fail(ResetReason.REMOTE_CONNECTION_FAILURE);
        FakeUpstream up = c.lastConnect().ready();

        assertThat(conn.open).isTrue();
        assertThat(conn.readDisables).isZero();
        assertThat(conn.info.upstreamHost()).isEqualTo("127.0.0.1:9002");
        buffers.add(conn.receive("ping", false));
        assertThat(up.writtenString()).isEqualTo("ping");
        assertThat(conn.info.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
        assertReleased();
    }

    @Test
    void defaultIsOneAttempt() {
        FakeCluster c = cluster("backend", 9001, 9002);
        start(config("backend").build());
        c.lastConnect().fail(ResetReason.REMOTE_CONNECTION_FAILURE);
        assertThat(c.connects).hasSize(1);
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(clusterStat("backend", "upstream_cx_connect_attempts_exceeded")).isEqualTo(1);
    }

    @Test
    void poolOverflowClosesWithUo() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").setMaxConnectAttempts(UInt32Value.of(3)).build());
        c.lastConnect().fail(ResetReason.OVERFLOW);
        assertThat(c.connects).hasSize(1);
        assertThat(conn.info.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_OVERFLOW);
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
    }

    @Test
    void downstreamCloseWhileConnectingCancelsAndLateReadyIsClosed() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        PendingConnect p = c.lastConnect();
        buffers.add(conn.receive("early", false)); // read before reads were disabled: kept until connect
        conn.remoteClose();
        assertThat(p.cancelled).isTrue();
        FakeUpstream late = p.ready();
        assertThat(late.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(late.writtenString()).isEmpty();
        assertThat(logged).hasSize(1);
        assertReleased();
    }

    @Test
    void bytesReadBeforeConnectAreWrittenOnConnect() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        buffers.add(conn.receive("early ", false));
        buffers.add(conn.receive("bird", true));
        FakeUpstream up = c.lastConnect().ready();
        assertThat(up.writtenString()).isEqualTo("early bird");
        assertThat(up.writeEnded).isTrue();
        assertReleased();
    }

    @Test
    void idleTimeoutClosesBothSidesWithoutReschedulingPerChunk() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").setIdleTimeout(Duration.newBuilder().setSeconds(10)).build());
        FakeUpstream up = c.lastConnect().ready();
        assertThat(conn.dispatcher.pendingTasks()).isEqualTo(1);

        conn.dispatcher.advance(5_000);
        for (int i = 0; i < 100; i++) {
            buffers.add(conn.receive("x", false));
            buffers.add(up.send("y", false));
        }
        assertThat(conn.dispatcher.pendingTasks()).as("one timer, not one per chunk").isEqualTo(1);

        conn.dispatcher.advance(9_000); // 14 s since connect, 9 s since the last byte
        assertThat(conn.open).isTrue();
        assertThat(tcp("idle_timeout")).isZero();

        conn.dispatcher.advance(1_000);
        assertThat(tcp("idle_timeout")).isEqualTo(1);
        assertThat(conn.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(up.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(conn.dispatcher.pendingTasks()).isZero();
        assertThat(logged).hasSize(1);
        assertReleased();
    }

    @Test
    void idleTimeoutZeroDisablesIt() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").setIdleTimeout(Duration.newBuilder().setSeconds(0)).build());
        c.lastConnect().ready();
        assertThat(conn.dispatcher.pendingTasks()).isZero();
        conn.dispatcher.advance(48L * 3600 * 1000);
        assertThat(conn.open).isTrue();
    }

    @Test
    void defaultIdleTimeoutIsOneHour() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        c.lastConnect().ready();
        assertThat(conn.dispatcher.nextDueInMillis()).isEqualTo(3_600_000);
        conn.dispatcher.advance(3_600_000);
        assertThat(tcp("idle_timeout")).isEqualTo(1);
    }

    @Test
    void flowControlPausesAndResumesBothWays() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        FakeUpstream up = c.lastConnect().ready();

        up.callbacks.onAboveWriteBufferHighWatermark();
        assertThat(conn.readDisables).isEqualTo(1);
        assertThat(tcp("downstream_flow_control_paused_reading_total")).isEqualTo(1);
        up.callbacks.onBelowWriteBufferLowWatermark();
        assertThat(conn.readDisables).isZero();
        assertThat(tcp("downstream_flow_control_resumed_reading_total")).isEqualTo(1);

        assertThat(conn.watermarks).hasSize(1);
        WatermarkCallbacks downstream = conn.watermarks.get(0);
        downstream.onAboveWriteBufferHighWatermark();
        assertThat(up.readDisables).isEqualTo(1);
        assertThat(clusterStat("backend", "upstream_flow_control_paused_reading_total")).isEqualTo(1);
        downstream.onBelowWriteBufferLowWatermark();
        assertThat(up.readDisables).isZero();
        assertThat(clusterStat("backend", "upstream_flow_control_resumed_reading_total")).isEqualTo(1);
    }

    @Test
    void downstreamAboveHighBeforeConnectDisablesUpstreamReadsOnConnect() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        conn.watermarks.get(0).onAboveWriteBufferHighWatermark();
        FakeUpstream up = c.lastConnect().ready();
        assertThat(up.readDisables).isEqualTo(1);
        conn.watermarks.get(0).onBelowWriteBufferLowWatermark();
        assertThat(up.readDisables).isZero();
    }

    @Test
    void upstreamDataAfterCloseIsReleased() {
        FakeCluster c = cluster("backend", 9001);
        start(config("backend").build());
        FakeUpstream up = c.lastConnect().ready();
        conn.close(CloseType.NO_FLUSH);
        assertThat(up.closeType).isEqualTo(CloseType.NO_FLUSH);
        ByteBuf late = NetworkFilterFakes.buf("late");
        up.callbacks.onUpstreamData(late, false);
        assertThat(late.refCnt()).isZero();
        assertThat(logged).hasSize(1);
    }

    @Test
    void weightedClustersSendEachConnectionToOneOfThem() {
        FakeCluster a = cluster("a", 9001);
        FakeCluster b = cluster("b", 9002);
        TcpProxy config = TcpProxy.newBuilder().setStatPrefix("ingress")
                .setWeightedClusters(TcpProxy.WeightedCluster.newBuilder()
                        .addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder().setName("a").setWeight(1))
                        .addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder().setName("b").setWeight(1)))
                .build();
        var installer = new TcpProxyFilterFactory().create(config, context);
        for (int i = 0; i < 200; i++) {
            FakeConnection c = new FakeConnection();
            c.filter = installer.newFilter(new FakeCallbacks(c, clusters));
            c.filter.onNewConnection();
            assertThat(c.info.upstreamCluster()).isIn("a", "b");
        }
        assertThat(a.connects.size() + b.connects.size()).isEqualTo(200);
        assertThat(a.connects).isNotEmpty();
        assertThat(b.connects).isNotEmpty();
        assertThat(tcp("downstream_cx_total")).isEqualTo(200);
    }

    @Test
    void noAccessLogConfiguredLogsNothing() {
        context.accessLogger(AccessLogger.NONE);
        cluster("backend", 9001);
        start(TcpProxy.newBuilder().setStatPrefix("ingress").setCluster("backend").build());
        conn.remoteClose();
        assertThat(context.accessLogRequests()).isEmpty();
        assertThat(logged).isEmpty();
    }
}
