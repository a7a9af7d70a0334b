package dev.legate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.TcpUpstreamCallbacks;
import dev.legate.api.upstream.TcpUpstreamConnection;
import dev.legate.testkit.NetworkFilterFakes.FakeCallbacks;
import dev.legate.testkit.NetworkFilterFakes.FakeCluster;
import dev.legate.testkit.NetworkFilterFakes.FakeClusterManager;
import dev.legate.testkit.NetworkFilterFakes.FakeConnection;
import dev.legate.testkit.NetworkFilterFakes.FakeHost;
import dev.legate.testkit.NetworkFilterFakes.FakeUpstream;
import dev.legate.testkit.NetworkFilterFakes.PendingConnect;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fakes play the host's side of a network filter: a minimal pass-through proxy filter driven through them. */
class NetworkFilterFakesTest {

    /** Forwards downstream bytes to one upstream connection of cluster "backend" and back; records events. */
    private static final class PassThrough implements NetworkFilter, TcpUpstreamCallbacks {
        private final NetworkFilterCallbacks callbacks;
        private final List<String> events = new ArrayList<>();
        private TcpUpstreamConnection upstream;
        private String failure;

        PassThrough(NetworkFilterCallbacks callbacks) {
            this.callbacks = callbacks;
        }

        @Override
        public FilterStatus onNewConnection() {
            var cluster = callbacks.clusterManager().cluster("backend");
            Host host = cluster.chooseHost(null);
            cluster.tcpConnectionPool(host, callbacks.connection().dispatcher()).newConnection(this);
            return FilterStatus.CONTINUE;
        }

        @Override
        public FilterStatus onData(ByteBuf data, boolean endStream) {
            upstream.write(data.retainedDuplicate(), endStream);
            return FilterStatus.STOP_ITERATION;
        }

        @Override
        public void onConnectionEvent(ConnectionEvent event) {
            events.add("downstream " + event);
            if (upstream != null) {
                upstream.close(CloseType.NO_FLUSH);
            }
        }

        @Override
        public void onPoolReady(TcpUpstreamConnection connection, Host host) {
            upstream = connection;
            upstream.readDisable(true);
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            failure = reason.name() + " " + transportFailure + " " + host.addressString();
            callbacks.connection().close(CloseType.FLUSH_WRITE);
        }

        @Override
        public void onUpstreamData(ByteBuf data, boolean endStream) {
            callbacks.connection().write(data, endStream);
        }

        @Override
        public void onEvent(ConnectionEvent event) {
            events.add("upstream " + event);
        }
    }

    private final TestFactoryContext context = new TestFactoryContext();
    private final FakeClusterManager clusters = new FakeClusterManager();
    private final FakeCluster cluster =
            clusters.add(new FakeCluster("backend", context.statsStore().root(), FakeHost.of(7001), FakeHost.of(7002)));
    private final FakeConnection conn = new FakeConnection();
    private final PassThrough filter = new PassThrough(new FakeCallbacks(conn, clusters));

    @Test
    void bytesFlowBothWaysAndBuffersAreReleased() {
        conn.filter = filter;
        assertThat(filter.onNewConnection()).isEqualTo(FilterStatus.CONTINUE);
        PendingConnect connect = cluster.lastConnect();
        assertThat(connect.host).isEqualTo(FakeHost.of(7001));
        assertThat(connect.dispatcher).isSameAs(conn.dispatcher);
        FakeUpstream upstream = connect.ready();
        assertThat(upstream.readDisables).isEqualTo(1);

        ByteBuf lent = conn.receive("ping", false);
        assertThat(lent.refCnt()).as("the received buffer is released after the call").isZero();
        assertThat(upstream.writtenString()).isEqualTo("ping");
        ByteBuf sent = upstream.send("pong", true);
        assertThat(sent.refCnt()).as("the upstream buffer was transferred and written").isZero();
        assertThat(upstream.received).hasSize(1);
        assertThat(upstream.received.get(0)).isSameAs(sent);
        assertThat(conn.writtenString()).isEqualTo("pong");
        assertThat(conn.writeEnded).isTrue();

        conn.remoteClose();
        assertThat(conn.isOpen()).isFalse();
        assertThat(upstream.closeType).isEqualTo(CloseType.NO_FLUSH);
        assertThat(filter.events).containsExactly("downstream REMOTE_CLOSE", "upstream LOCAL_CLOSE");
        upstream.close(CloseType.FLUSH_WRITE);
        assertThat(upstream.closeType).as("a second close does nothing").isEqualTo(CloseType.NO_FLUSH);
    }

    @Test
    void aFailedConnectReachesTheFilterAndHostsRotate() {
        conn.filter = filter;
        filter.onNewConnection();
        cluster.lastConnect().fail(ResetReason.REMOTE_CONNECTION_FAILURE);
        assertThat(filter.failure).isEqualTo("REMOTE_CONNECTION_FAILURE delayed connect error: 111 127.0.0.1:7001");
        assertThat(conn.closeType).isEqualTo(CloseType.FLUSH_WRITE);
        assertThat(filter.events).containsExactly("downstream LOCAL_CLOSE");

        assertThat(cluster.chooseHost(null)).isEqualTo(FakeHost.of(7002));
        assertThat(clusters.cluster("other")).isNull();
        assertThat(cluster.stats).isNotNull();
        ByteBuf late = NetworkFilterFakes.buf("late");
        conn.write(late, false);
        assertThat(late.refCnt()).as("a write after close is dropped and released").isZero();
        assertThat(conn.writtenString()).isEmpty();
        assertThatThrownBy(() -> cluster.httpConnectionPool(FakeHost.of(7001), conn.dispatcher))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
