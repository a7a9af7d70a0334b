package dev.legate.filters.network.redisproxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.network.CloseType;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.testkit.LeakCheck;
import dev.legate.testkit.NetworkFilterFakes.FakeCallbacks;
import dev.legate.testkit.NetworkFilterFakes.FakeCluster;
import dev.legate.testkit.NetworkFilterFakes.FakeClusterManager;
import dev.legate.testkit.NetworkFilterFakes.FakeConnection;
import dev.legate.testkit.NetworkFilterFakes.FakeHost;
import dev.legate.testkit.NetworkFilterFakes.FakeUpstream;
import dev.legate.testkit.NetworkFilterFakes.PendingConnect;
import dev.legate.testkit.TestFactoryContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Filter tier: {@link RedisProxyFilter} and its upstream clients driven through fakes of the host (no sockets). */
@ExtendWith(LeakCheck.class)
class RedisProxyFilterTest {

    private final TestFactoryContext context = new TestFactoryContext();
    private final FakeClusterManager clusters = new FakeClusterManager();
    private final List<ByteBuf> upstreamBuffers = new ArrayList<>();
    private RedisConnPool pool;

    private static final String CONFIG = """
            {"stat_prefix": "cache", "settings": {"op_timeout": "1s"},
             "prefix_routes": {"catch_all_route": {"cluster": "redis"}}}""";

    private final List<FakeConnection> connections = new ArrayList<>();

    /** Closes the pool as the listener's end does (on each worker's loop), then checks every buffer was released. */
    @AfterEach
    void closeAndCheckReleased() {
        if (pool != null) {
            pool.close();
            connections.forEach(c -> c.dispatcher.runPending());
        }
        for (ByteBuf b : upstreamBuffers) {
            assertThat(b.refCnt()).as("refCnt of an upstream buffer").isZero();
        }
    }

    private FakeCluster cluster(int... ports) {
        FakeHost[] hosts = new FakeHost[ports.length];
        for (int i = 0; i < ports.length; i++) {
            hosts[i] = FakeHost.of(ports[i]);
        }
        return clusters.add(new FakeCluster("redis", context.statsStore().root(), hosts));
    }

    private FakeConnection connect(String json) {
        RedisProxySettings settings = RedisProxySettings.from(RedisProxyFilterFactoryTest.parse(json), context);
        if (pool == null) {
            pool = new RedisConnPool(settings);
        }
        FakeConnection conn = new FakeConnection();
        connections.add(conn);
        NetworkFilter filter = new RedisProxyFilter(settings, pool, new FakeCallbacks(conn, clusters));
        conn.filter = filter;
        assertThat(filter.onNewConnection()).isEqualTo(FilterStatus.CONTINUE);
        return conn;
    }

    private void reply(FakeUpstream u, String s) {
        upstreamBuffers.add(u.send(s, false));
    }

    private long stat(String name) {
        return context.statsStore().counter(name);
    }

    @Test
    void repliesGoOutInRequestOrderWhateverOrderHostsAnswer() {
        FakeCluster c = cluster(1, 2);  // the fake balancer alternates: a -> host 1, b -> host 2
        FakeConnection conn = connect(CONFIG);
        conn.receive("GET a\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n", false);
        assertThat(c.connects).hasSize(2);
        FakeUpstream one = c.connects.get(0).ready();
        FakeUpstream two = c.connects.get(1).ready();
        assertThat(one.writtenString()).isEqualTo("*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
        assertThat(two.writtenString()).isEqualTo("*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
        reply(two, "$1\r\nB\r\n");
        assertThat(conn.writtenString()).isEmpty();
        reply(one, "$1\r\nA\r\n");
        assertThat(conn.writtenString()).isEqualTo("$1\r\nA\r\n$1\r\nB\r\n");
        assertThat(stat("redis.cache.command.get.total")).isEqualTo(2);
        assertThat(stat("redis.cache.command.get.success")).isEqualTo(2);
        assertThat(stat("redis.cache.downstream_rq_total")).isEqualTo(2);
        assertThat(context.statsStore().gauge("redis.cache.downstream_rq_active")).isZero();
    }

    @Test
    void aRequestSplitOverReadsIsReassembled() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("*2\r\n$3\r\nGE", false);
        assertThat(c.connects).isEmpty();
        assertThat(context.statsStore().gauge("redis.cache.downstream_cx_rx_bytes_buffered")).isEqualTo(10);
        conn.receive("T\r\n$1\r\nk\r\n*1\r\n$4\r\nPI", false);
        assertThat(c.connects).hasSize(1);
        assertThat(context.statsStore().gauge("redis.cache.downstream_cx_rx_bytes_buffered")).isEqualTo(10);
        FakeUpstream u = c.connects.get(0).ready();
        assertThat(u.writtenString()).isEqualTo("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        conn.receive("NG\r\n", false);
        // PONG waits behind the GET.
        assertThat(conn.writtenString()).isEmpty();
        reply(u, "$-1\r\n");
        assertThat(conn.writtenString()).isEqualTo("$-1\r\n+PONG\r\n");
        assertThat(context.statsStore().gauge("redis.cache.downstream_cx_rx_bytes_buffered")).isZero();
    }

    @Test
    void mgetMergesPartsAndReportsAFailedPart() {
        FakeCluster c = cluster(1, 2);
        FakeConnection conn = connect(CONFIG);
        conn.receive("MGET a b\r\n", false);
        FakeUpstream one = c.connects.get(0).ready();
        c.connects.get(1).ready();
        reply(one, "$1\r\nA\r\n");
        c.connects.get(1).upstream.remoteClose();
        assertThat(conn.writtenString()).isEqualTo("*2\r\n$1\r\nA\r\n-upstream failure\r\n");
        assertThat(stat("redis.cache.command.mget.error")).isEqualTo(1);
    }

    @Test
    void msetAndSummedCommandsMerge() {
        FakeCluster c = cluster(1, 2);
        FakeConnection conn = connect(CONFIG);
        conn.receive("MSET a 1 b 2\r\nDEL a b\r\n", false);
        FakeUpstream one = c.connects.get(0).ready();
        FakeUpstream two = c.connects.get(1).ready();
        assertThat(one.writtenString()).isEqualTo("*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n");
        reply(one, "+OK\r\n:1\r\n");
        reply(two, "+OK\r\n:0\r\n");
        assertThat(conn.writtenString()).isEqualTo("+OK\r\n:1\r\n");
        conn.receive("MSET a 1 b 2\r\n", false);
        reply(one, "+OK\r\n");
        reply(two, "-ERR oom\r\n");
        assertThat(conn.writtenString()).endsWith("-finished with 1 error(s)\r\n");
    }

    @Test
    void opTimeoutFailsOutstandingRequestsAndClosesTheUpstream() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("GET a\r\nGET b\r\n", false);
        FakeUpstream u = c.connects.get(0).ready();
        conn.dispatcher.advance(999);
        assertThat(conn.writtenString()).isEmpty();
        conn.dispatcher.advance(1);
        assertThat(conn.writtenString()).isEqualTo("-upstream failure\r\n-upstream failure\r\n");
        assertThat(u.open).isFalse();
        assertThat(stat("cluster.redis.upstream_rq_timeout")).isEqualTo(1);
        assertThat(stat("redis.cache.command.get.error")).isEqualTo(2);
        // The next command opens a new connection.
        conn.receive("GET c\r\n", false);
        assertThat(c.connects).hasSize(2);
    }

    @Test
    void connectFailureAnswersUpstreamFailure() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("SET a 1\r\n", false);
        c.connects.get(0).fail(dev.legate.api.upstream.ResetReason.REMOTE_CONNECTION_FAILURE);
        assertThat(conn.writtenString()).isEqualTo("-upstream failure\r\n");
    }

    @Test
    void clientsOfOneLoopShareOnePipelinedConnection() {
        FakeCluster c = cluster(1);
        FakeConnection first = connect(CONFIG);
        FakeConnection second = connect(CONFIG);
        first.receive("GET a\r\n", false);
        second.receive("GET b\r\n", false);
        assertThat(c.connects).hasSize(1);
        FakeUpstream u = c.connects.get(0).ready();
        reply(u, "$1\r\nA\r\n$1\r\nB\r\n");
        assertThat(first.writtenString()).isEqualTo("$1\r\nA\r\n");
        assertThat(second.writtenString()).isEqualTo("$1\r\nB\r\n");
    }

    @Test
    void aClosedClientsLateReplyIsDropped() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("GET a\r\n", false);
        FakeUpstream u = c.connects.get(0).ready();
        conn.remoteClose();
        reply(u, "$5\r\nhello\r\n");
        assertThat(conn.writtenString()).isEmpty();
        assertThat(u.open).isTrue();
        assertThat(context.statsStore().gauge("redis.cache.downstream_cx_active")).isZero();
    }

    @Test
    void localRepliesAndErrors() {
        cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("PING\r\nECHO hi\r\nKEYS *\r\nGET\r\n*1\r\n:1\r\nEVAL x 0\r\n", false);
        assertThat(conn.writtenString()).isEqualTo("+PONG\r\n$2\r\nhi\r\n-unsupported command 'KEYS'\r\n"
                + "-invalid request\r\n-invalid request\r\n-wrong number of arguments for 'EVAL' command\r\n");
        assertThat(stat("redis.cache.splitter.unsupported_command")).isEqualTo(1);
        assertThat(stat("redis.cache.splitter.invalid_request")).isEqualTo(2);
        conn.receive("QUIT\r\n", false);
        assertThat(conn.writtenString()).endsWith("+OK\r\n");
        assertThat(conn.closeType).isEqualTo(CloseType.FLUSH_WRITE);
    }

    @Test
    void noRouteOrNoHostIsNoUpstreamHost() {
        clusters.add(new FakeCluster("redis", context.statsStore().root()));
        FakeConnection conn = connect("""
                {"stat_prefix": "cache", "settings": {"op_timeout": "1s"},
                 "prefix_routes": {"routes": [{"prefix": "x", "cluster": "redis"}]}}""");
        conn.receive("GET nomatch\r\nGET xkey\r\n", false);
        assertThat(conn.writtenString()).isEqualTo("-no upstream host\r\n-no upstream host\r\n");
        assertThat(stat("redis.cache.command.get.error")).isEqualTo(2);
    }

    @Test
    void bytesThatAreNotRespCloseTheConnection() {
        cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("*x\r\n", false);
        assertThat(conn.writtenString()).isEqualTo("-downstream protocol error\r\n");
        assertThat(conn.open).isFalse();
        assertThat(stat("redis.cache.downstream_cx_protocol_error")).isEqualTo(1);
    }

    @Test
    void authAndHello() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect("""
                {"stat_prefix": "cache", "settings": {"op_timeout": "1s"}, "downstream_auth_username": {"inline_string": "u"},
                 "downstream_auth_passwords": [{"inline_string": "p"}],
                 "prefix_routes": {"catch_all_route": {"cluster": "redis"}}}""");
        conn.receive("GET a\r\nAUTH x y\r\nHELLO 3\r\nHELLO 3 AUTH u p\r\n", false);
        String got = conn.writtenString();
        assertThat(got).startsWith("-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair\r\n"
                + "-NOAUTH HELLO must be called");
        assertThat(got).contains("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
        // RESP3 now: the upstream connection for it says HELLO 3 first, and its reply is not the client's.
        conn.receive("GET a\r\n", false);
        FakeUpstream u = c.connects.get(0).ready();
        assertThat(u.writtenString()).isEqualTo("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
        int before = conn.writtenString().length();
        reply(u, "%1\r\n$5\r\nproto\r\n:3\r\n_\r\n");
        assertThat(conn.writtenString().substring(before)).isEqualTo("_\r\n");
        conn.onEvent(ConnectionEvent.LOCAL_CLOSE);
    }

    /** Delivers {@code s} as UTF-8 bytes, as a client such as redis-cli sends non-ASCII arguments. */
    private static void receiveUtf8(FakeConnection conn, String s) {
        ByteBuf b = Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
        conn.filter.onData(b, false);
        b.release();
    }

    /**
     * Configured strings are UTF-8 text, client arguments bytes: a UTF-8 prefix routes the keys that start
     * with its bytes, remove_prefix cuts exactly those bytes, a non-ASCII key_formatter, username and password
     * reach/compare as their UTF-8 bytes (not as '?').
     */
    @Test
    void utf8PrefixesFormattersAndPasswordsCompareAsBytes() {
        FakeCluster users = clusters.add(new FakeCluster("users", context.statsStore().root(), FakeHost.of(1)));
        FakeCluster rest = cluster(2);
        FakeConnection conn = connect("""
                {"stat_prefix": "cache", "settings": {"op_timeout": "1s"},
                 "downstream_auth_username": {"inline_string": "ユーザー"},
                 "downstream_auth_password": {"inline_string": "pässwört"},
                 "prefix_routes": {"routes": [{"prefix": "用户:", "remove_prefix": true, "key_formatter": "é{%KEY%}",
                                               "cluster": "users"}],
                                   "catch_all_route": {"cluster": "redis"}}}""");
        receiveUtf8(conn, "AUTH ユーザー passwort\r\nAUTH ユーザー pässwört\r\nGET 用户:42\r\nGET 用户x\r\n");
        assertThat(conn.written.toString(StandardCharsets.UTF_8))
                .isEqualTo("-WRONGPASS invalid username-password pair\r\n+OK\r\n");
        assertThat(users.connects).hasSize(1);
        assertThat(rest.connects).hasSize(1);
        FakeUpstream u = users.connects.get(0).ready();
        FakeUpstream r = rest.connects.get(0).ready();
        assertThat(u.written.toString(StandardCharsets.UTF_8)).isEqualTo("*2\r\n$3\r\nGET\r\n$6\r\né{42}\r\n");
        assertThat(r.written.toString(StandardCharsets.UTF_8)).isEqualTo("*2\r\n$3\r\nGET\r\n$7\r\n用户x\r\n");
        reply(u, "$1\r\nA\r\n");
        reply(r, "$-1\r\n");
        assertThat(conn.written.toString(StandardCharsets.UTF_8))
                .isEqualTo("-WRONGPASS invalid username-password pair\r\n+OK\r\n$1\r\nA\r\n$-1\r\n");
    }

    @Test
    void aTransactionRunsOnItsOwnConnectionToTheFirstKeysHost() {
        FakeCluster c = cluster(1);
        FakeConnection conn = connect(CONFIG);
        conn.receive("EXEC\r\nMULTI\r\nMULTI\r\nMGET a b\r\nSET a 1\r\nINCR a\r\nEXEC\r\n", false);
        assertThat(c.connects).hasSize(1);
        FakeUpstream tx = c.connects.get(0).ready();
        assertThat(tx.writtenString()).isEqualTo("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
                + "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n");
        reply(tx, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n");
        assertThat(conn.writtenString()).isEqualTo("-EXEC without MULTI\r\n+OK\r\n-MULTI calls can not be nested\r\n"
                + "-'MGET' command is not supported within transaction\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n");
        assertThat(tx.open).isFalse();
        // An empty transaction never leaves the proxy.
        conn.receive("MULTI\r\nEXEC\r\nMULTI\r\nDISCARD\r\n", false);
        assertThat(conn.writtenString()).endsWith("+OK\r\n*0\r\n+OK\r\n+OK\r\n");
        assertThat(c.connects).hasSize(1);
    }

    @Test
    void aClientThatDoesNotReadIsNotRead() {
        cluster(1);
        FakeConnection conn = connect(CONFIG);
        assertThat(conn.watermarks).hasSize(1);
        conn.watermarks.get(0).onAboveWriteBufferHighWatermark();
        assertThat(conn.readDisables).isEqualTo(1);
        conn.watermarks.get(0).onBelowWriteBufferLowWatermark();
        assertThat(conn.readDisables).isZero();
    }
}
