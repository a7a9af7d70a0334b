package dev.legate.filters.network.mongoproxy;

import static dev.legate.filters.network.mongoproxy.Wire.buf;
import static dev.legate.filters.network.mongoproxy.Wire.concat;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.Dispatcher;
import dev.legate.api.StreamInfo;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.Connection;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestStreamInfo;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.micrometer.core.instrument.DistributionSummary;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.random.RandomGenerator;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Filter tier: {@link MongoProxyFilter} driven through its callbacks with a manual clock, no sockets. */
class MongoProxyFilterTest {

    private final TestFactoryContext context = new TestFactoryContext();
    private final FakeConnection connection = new FakeConnection();
    private final FakeCallbacks callbacks = new FakeCallbacks(connection);
    private MongoProxyFilter filter;

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        if (filter != null && connection.open) {
            connection.open = false;
            filter.onConnectionEvent(ConnectionEvent.LOCAL_CLOSE);
        }
        context.close();
    }

    private MongoProxyFilter filter(MongoProxy.Builder config) {
        return filter(config, new Random(1));
    }

    private MongoProxyFilter filter(MongoProxy.Builder config, RandomGenerator random) {
        filter = new MongoProxyFilter(MongoProxySettings.from(config.build(), context), callbacks, random);
        return filter;
    }

    private static MongoProxy.Builder config() {
        return MongoProxy.newBuilder().setStatPrefix("db");
    }

    /** The client sends {@code bytes}: the host's buffer is borrowed and must come back untouched. */
    private FilterStatus request(byte[] bytes) {
        ByteBuf b = buf(bytes);
        try {
            FilterStatus s = filter.onData(b, false);
            assertUntouched(b, bytes.length);
            return s;
        } finally {
            b.release();
        }
    }

    private void reply(byte[] bytes) {
        ByteBuf b = buf(bytes);
        try {
            assertThat(filter.onWrite(b, false)).isEqualTo(FilterStatus.CONTINUE);
            assertUntouched(b, bytes.length);
        } finally {
            b.release();
        }
    }

    private static void assertUntouched(ByteBuf b, int length) {
        assertThat(b.readerIndex()).isZero();
        assertThat(b.writerIndex()).isEqualTo(length);
        assertThat(b.refCnt()).isEqualTo(1);
    }

    private long counter(String name) {
        return context.statsStore().counter("mongo.db." + name);
    }

    private DistributionSummary histogram(String name) {
        return context.statsStore().histograms().get("mongo.db." + name);
    }

    @Test
    void legacyQueryAndReplyChargeCollectionAndCallsiteStats() {
        filter(config());
        int flags = MongoMessage.Query.TAILABLE_CURSOR | MongoMessage.Query.NO_CURSOR_TIMEOUT
                | MongoMessage.Query.AWAIT_DATA | MongoMessage.Query.EXHAUST;
        assertThat(request(Wire.opQuery(10, flags, "test.people",
                "{_id: {$in: [1, 2]}, $comment: '{\"callingFunction\": \"getByIds\"}'}")))
                .isEqualTo(FilterStatus.CONTINUE);
        assertThat(counter("op_query")).isEqualTo(1);
        assertThat(counter("op_query_tailable_cursor")).isEqualTo(1);
        assertThat(counter("op_query_no_cursor_timeout")).isEqualTo(1);
        assertThat(counter("op_query_await_data")).isEqualTo(1);
        assertThat(counter("op_query_exhaust")).isEqualTo(1);
        assertThat(counter("op_query_no_max_time")).isEqualTo(1);
        assertThat(counter("op_query_multi_get")).isEqualTo(1);
        assertThat(counter("op_query_scatter_get")).isZero();
        assertThat(counter("collection.people.query.total")).isEqualTo(1);
        assertThat(counter("collection.people.query.multi_get")).isEqualTo(1);
        assertThat(counter("collection.people.callsite.getByIds.query.total")).isEqualTo(1);
        assertThat(counter("collection.people.callsite.getByIds.query.multi_get")).isEqualTo(1);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isEqualTo(1);

        connection.dispatcher.advance(25);
        reply(Wire.opReply(11, 999, 0, 0L, "{a: 1}"));  // answers nothing pending
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isEqualTo(1);
        reply(Wire.opReply(12, 10, MongoMessage.Reply.CURSOR_NOT_FOUND | MongoMessage.Reply.QUERY_FAILURE, 42L,
                "{_id: 1}", "{_id: 2}"));
        assertThat(counter("op_reply")).isEqualTo(2);
        assertThat(counter("op_reply_valid_cursor")).isEqualTo(1);
        assertThat(counter("op_reply_cursor_not_found")).isEqualTo(1);
        assertThat(counter("op_reply_query_failure")).isEqualTo(1);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isZero();
        for (String p : List.of("collection.people.query.", "collection.people.callsite.getByIds.query.")) {
            assertThat(histogram(p + "reply_num_docs").max()).isEqualTo(2.0);
            assertThat(histogram(p + "reply_size").max()).isEqualTo(2.0 * Wire.doc("{_id: 1}").length);
            assertThat(histogram(p + "reply_time_ms").max()).isEqualTo(25.0);
        }
    }

    @Test
    void commandsOutsideTheListCountAsUnknownCommand() {
        filter(config());  // default commands: delete, insert, update
        request(Wire.opQuery(1, 0, "test.$cmd", "{insert: 'people', documents: [{a: 1}]}"));
        request(Wire.opQuery(2, 0, "admin.$cmd", "{ismaster: 1}"));
        request(Wire.opMsg(3, 0, 0, "{update: 'people', updates: [], $db: 'test'}"));
        request(Wire.opMsg(4, 0, 0, "{aggregate: 'people', pipeline: [], cursor: {}, $db: 'test'}"));
        assertThat(counter("cmd.insert.total")).isEqualTo(1);
        assertThat(counter("cmd.update.total")).isEqualTo(1);
        assertThat(counter("cmd.unknown_command.total")).isEqualTo(2);
        reply(Wire.opReply(5, 2, 0, 0L, "{ismaster: true, ok: 1}"));
        assertThat(histogram("cmd.unknown_command.reply_num_docs").count()).isEqualTo(1);
        assertThat(counter("op_msg")).isEqualTo(2);
        assertThat(counter("op_query")).isEqualTo(2);
    }

    @Test
    void opMsgFindIsAQueryAndItsReplyCountsTheBatch() {
        filter(config().addCommands("aggregate").addCommands("getMore"));
        request(Wire.opMsg(1, 0, 0,
                "{find: 'people', filter: {age: {$gt: 40}}, comment: '{\"callingFunction\": \"oldies\"}', $db: 'test'}"));
        request(Wire.opMsg(2, 0, 0, "{find: 'people', filter: {_id: 3}, maxTimeMS: 500, $db: 'test'}"));
        request(Wire.opMsg(3, 0, 0, "{getMore: {$numberLong: '77'}, collection: 'people', $db: 'test'}"));
        assertThat(counter("collection.people.query.total")).isEqualTo(2);
        assertThat(counter("collection.people.query.scatter_get")).isEqualTo(1);
        assertThat(counter("collection.people.callsite.oldies.query.total")).isEqualTo(1);
        assertThat(counter("op_query_scatter_get")).isEqualTo(1);
        assertThat(counter("op_query_no_max_time")).isEqualTo(1);
        assertThat(counter("cmd.getMore.total")).isEqualTo(1);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isEqualTo(3);

        connection.dispatcher.advance(7);
        reply(Wire.opMsg(10, 1, 0, "{cursor: {firstBatch: [{_id: 2}, {_id: 3}, {_id: 4}], id: 0, ns: 'test.people'},"
                + " ok: 1}"));
        reply(Wire.opMsg(11, 3, 0, "{cursor: {nextBatch: [{_id: 9}], id: 0, ns: 'test.people'}, ok: 1}"));
        assertThat(counter("op_msg_reply")).isEqualTo(2);
        assertThat(histogram("collection.people.query.reply_num_docs").max()).isEqualTo(3.0);
        assertThat(histogram("collection.people.callsite.oldies.query.reply_time_ms").max()).isEqualTo(7.0);
        assertThat(histogram("cmd.getMore.reply_num_docs").max()).isEqualTo(1.0);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isEqualTo(1);
    }

    @Test
    void moreToComeExpectsNoReply() {
        filter(config());
        request(Wire.opMsg(1, 0, MongoMessage.Msg.MORE_TO_COME, "{insert: 'logs', $db: 'test'}"));
        assertThat(counter("cmd.insert.total")).isEqualTo(1);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isZero();
    }

    @Test
    void decodingErrorStopsSniffingButNotTheBytes() {
        filter(config());
        byte[] ping = Wire.opMsg(1, 0, 0, "{ping: 1, $db: 'admin'}");
        byte[] update = Wire.message(2, 0, MongoMessage.OP_UPDATE, Wire.int32(0), Wire.cstring("a.b"), Wire.int32(0),
                Wire.doc("{}"), Wire.doc("{}"));
        assertThat(request(concat(ping, update, ping))).isEqualTo(FilterStatus.CONTINUE);
        assertThat(counter("op_msg")).isEqualTo(1);
        assertThat(counter("decoding_error")).isEqualTo(1);
        assertThat(request(ping)).isEqualTo(FilterStatus.CONTINUE);
        reply(ping);
        assertThat(counter("op_msg")).isEqualTo(1);
        assertThat(counter("op_msg_reply")).isZero();
        assertThat(counter("decoding_error")).isEqualTo(1);
    }

    @Test
    void anErrorWithAHalfMessageKeptReleasesIt() {
        filter(config());
        byte[] ping = Wire.opMsg(1, 0, 0, "{ping: 1}");
        reply(java.util.Arrays.copyOf(ping, 10));  // the server's side keeps a tail
        request(Wire.concat(Wire.int32(3), new byte[4]));  // the client's side fails
        assertThat(counter("decoding_error")).isEqualTo(1);
        // the leak detector fails the class if the server side's tail was not released
    }

    @Test
    void opCompressedIsCountedAndSniffingGoesOn() {
        filter(config());
        byte[] compressed = Wire.message(1, 0, MongoMessage.OP_COMPRESSED, Wire.int32(2013), Wire.int32(30),
                new byte[] {1}, new byte[] {1, 2, 3});
        request(compressed);
        reply(compressed);
        request(Wire.opMsg(2, 0, 0, "{ping: 1}"));
        assertThat(counter("op_compressed")).isEqualTo(2);
        assertThat(counter("op_msg")).isEqualTo(1);
        assertThat(counter("decoding_error")).isZero();
    }

    @Test
    void delayHoldsTheChainUntilTheTimerFires() {
        filter(config().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setNanos(50_000_000))
                .setPercentage(FractionalPercent.newBuilder().setNumerator(100))));
        byte[] ping = Wire.opMsg(1, 0, 0, "{ping: 1}");
        assertThat(request(ping)).isEqualTo(FilterStatus.STOP_ITERATION);
        assertThat(counter("delays_injected")).isEqualTo(1);
        connection.dispatcher.advance(20);
        assertThat(request(ping)).isEqualTo(FilterStatus.STOP_ITERATION);  // held too; one delay at a time
        assertThat(counter("delays_injected")).isEqualTo(1);
        assertThat(counter("op_msg")).isEqualTo(2);  // counted while held
        reply(Wire.opMsg(2, 1, 0, "{ok: 1}"));  // replies are never delayed
        assertThat(callbacks.continued).isZero();
        connection.dispatcher.advance(29);
        assertThat(callbacks.continued).isZero();
        connection.dispatcher.advance(1);
        assertThat(callbacks.continued).isEqualTo(1);
        assertThat(request(ping)).isEqualTo(FilterStatus.STOP_ITERATION);  // the next request: a new delay
        assertThat(counter("delays_injected")).isEqualTo(2);
        connection.open = false;
        filter.onConnectionEvent(ConnectionEvent.REMOTE_CLOSE);
        assertThat(connection.dispatcher.pendingTasks()).isZero();  // the timer was cancelled
    }

    @Test
    void delayPercentageIsSampledPerRequest() {
        filter(config().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setNanos(1_000_000))
                .setPercentage(FractionalPercent.newBuilder().setNumerator(30))), new Random(42));
        byte[] ping = Wire.opMsg(1, 0, 0, "{ping: 1}");
        for (int i = 0; i < 1000; i++) {
            request(ping);
            connection.dispatcher.advance(1);
        }
        // 1000 draws at 30 %: 300 expected, sigma ~14.5; the bounds are > 4 sigma away
        assertThat(counter("delays_injected")).isBetween(240L, 360L);
        assertThat(callbacks.continued).isEqualTo((int) counter("delays_injected"));
    }

    @Test
    void noPercentageMeansNoDelay() {
        filter(config().setDelay(FaultDelay.newBuilder().setFixedDelay(Duration.newBuilder().setSeconds(1))));
        assertThat(request(Wire.opMsg(1, 0, 0, "{ping: 1}"))).isEqualTo(FilterStatus.CONTINUE);
        assertThat(counter("delays_injected")).isZero();
    }

    @Test
    void closeWithActiveQueriesIsCounted() {
        filter(config());
        request(Wire.opMsg(1, 0, 0, "{find: 'people', $db: 'test'}"));
        connection.open = false;
        filter.onConnectionEvent(ConnectionEvent.REMOTE_CLOSE);
        assertThat(counter("cx_destroy_remote_with_active_rq")).isEqualTo(1);
        assertThat(context.statsStore().gauge("mongo.db.op_query_active")).isZero();

        FakeConnection other = new FakeConnection();
        MongoProxyFilter second = new MongoProxyFilter(MongoProxySettings.from(config().build(), context),
                new FakeCallbacks(other), new Random(1));
        ByteBuf b = buf(Wire.opQuery(1, 0, "test.people", "{}"));
        second.onData(b, false);
        b.release();
        second.onConnectionEvent(ConnectionEvent.LOCAL_CLOSE);
        assertThat(counter("cx_destroy_local_with_active_rq")).isEqualTo(1);
        assertThat(counter("cx_drain_close")).isZero();
    }

    @Test
    void dynamicMetadataNamesTheOperationsOfTheLatestRead() throws Exception {
        filter(config().setEmitDynamicMetadata(true));
        request(concat(Wire.opMsg(1, 0, 0, "{insert: 'people', $db: 'test'}"),
                Wire.opMsg(2, 0, 0, "{find: 'people', $db: 'test'}"),
                Wire.opQuery(3, 0, "test.orders", "{}")));
        Struct md = connection.info.state(MongoProxyFilter.DYNAMIC_METADATA);
        assertThat(JsonFormat.printer().omittingInsignificantWhitespace().print(md))
                .isEqualTo("{\"test.people\":[\"insert\",\"query\"],\"test.orders\":[\"query\"]}");
        reply(Wire.opMsg(4, 1, 0, "{ok: 1}"));  // Envoy clears it on every decode
        assertThat(connection.info.state(MongoProxyFilter.DYNAMIC_METADATA).getFieldsCount()).isZero();
    }

    @Test
    void noDynamicMetadataUnlessAskedFor() {
        filter(config());
        request(Wire.opMsg(1, 0, 0, "{insert: 'people', $db: 'test'}"));
        assertThat(connection.info.state(MongoProxyFilter.DYNAMIC_METADATA)).isNull();
    }

    @Test
    void accessLogWritesOneJsonLinePerMessage() throws Exception {
        Path file = dir.resolve("mongo.log");
        connection.info.setUpstreamHost("10.0.0.1:27017");
        filter(config().setAccessLog(file.toString()));
        connection.dispatcher.advance(0);
        request(Wire.opMsg(1, 0, 0, "{insert: 'people', $db: 'test'}"));
        reply(Wire.opMsg(2, 1, 0, "{n: 1, ok: 1}"));
        context.close();  // the listener closes: the log is flushed and closed
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        BsonDocument first = BsonDocument.parse(lines.get(0));
        assertThat(first.keySet()).containsExactly("time", "message", "upstream_host");
        assertThat(first.getString("time").getValue()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(first.getString("upstream_host").getValue()).isEqualTo("10.0.0.1:27017");
        assertThat(first.getDocument("message").getString("command").getValue()).isEqualTo("insert");
        assertThat(first.getDocument("message").getDocument("body"))
                .isEqualTo(BsonDocument.parse("{insert: 'people', $db: 'test'}"));
        BsonDocument second = BsonDocument.parse(lines.get(1));
        assertThat(second.getDocument("message")).isEqualTo(BsonDocument.parse(
                "{opcode: 'OP_MSG', id: 2, response_to: 1, flags: '0x0', ok: 1, documents: 1}"));
    }

    // Fakes of the host side

    static final class FakeConnection implements Connection {
        final ManualDispatcher dispatcher = new ManualDispatcher(1_000_000L);
        final TestStreamInfo info = TestStreamInfo.forConnection();
        boolean open = true;

        @Override public long id() { return 1; }
        @Override public InetSocketAddress remoteAddress() { return info.downstreamRemoteAddress(); }
        @Override public InetSocketAddress localAddress() { return info.downstreamLocalAddress(); }
        @Override public Dispatcher dispatcher() { return dispatcher; }
        @Override public StreamInfo streamInfo() { return info; }
        @Override public void write(ByteBuf data, boolean endStream) { data.release(); }
        @Override public void close(CloseType type) { open = false; }
        @Override public void readDisable(boolean disable) { }
        @Override public boolean isWritable() { return true; }
        @Override public void addWatermarkCallbacks(WatermarkCallbacks callbacks) { }
        @Override public boolean isOpen() { return open; }
    }

    static final class FakeCallbacks implements NetworkFilterCallbacks {
        final FakeConnection connection;
        int continued;

        FakeCallbacks(FakeConnection connection) {
            this.connection = connection;
        }

        @Override public Connection connection() { return connection; }
        @Override public void continueReading() { continued++; }
        @Override public ClusterManager clusterManager() { return null; }
    }
}
