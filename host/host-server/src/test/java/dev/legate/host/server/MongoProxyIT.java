package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.micrometer.core.instrument.DistributionSummary;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envoy.filters.network.mongo_proxy before tcp_proxy in the real proxy: the official MongoDB Java driver against
 * mongo-java-server (in memory) through Legate, hand-built legacy messages, a malformed message and
 * OP_COMPRESSED through an echo server, and a fault delay.
 */
class MongoProxyIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private MongoServer mongo;
    private InetSocketAddress mongoAddress;
    private EchoTcpServer echo;
    private Proxy proxy;

    @BeforeEach
    void start() throws IOException {
        mongo = new MongoServer(new MemoryBackend());
        mongo.bind("127.0.0.1", 0);
        mongoAddress = mongo.getLocalAddress();
        echo = new EchoTcpServer();
        proxy = new Proxy(config());
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        echo.close();
        mongo.shutdownNow();
    }

    private Path accessLog() {
        return dir.resolve("mongo.log");
    }

    private String config() {
        String mongoFilter = """
                      - name: envoy.filters.network.mongo_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy
                          stat_prefix: %s
                """;
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: mongo
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                %s
                          access_log: %s
                          commands: [insert, update, delete, aggregate, isMaster]
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: mongo
                          cluster: mongodb
                  - name: echo
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                %s
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: echo
                          cluster: echo
                  - name: delayed
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                %s
                          delay: { fixed_delay: 0.3s, percentage: { numerator: 100 } }
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: delayed
                          cluster: echo
                  clusters:
                  - %s
                  - %s
                """.formatted(mongoFilter.formatted("app").stripTrailing(), accessLog(),
                mongoFilter.formatted("raw").stripTrailing(), mongoFilter.formatted("slow").stripTrailing(),
                Proxy.staticCluster("mongodb", "", mongoAddress.getPort()),
                Proxy.staticCluster("echo", "", echo.port()));
    }

    @Test
    void driverInsertFindUpdateAggregateThroughTheProxy() throws Exception {
        MongoClientSettings settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + proxy.port("mongo")
                        + "/?directConnection=true&serverSelectionTimeoutMS=5000&connectTimeoutMS=5000"))
                .build();
        try (MongoClient client = MongoClients.create(settings)) {
            MongoCollection<Document> people = client.getDatabase("test").getCollection("people");
            people.insertMany(List.of(new Document("_id", 1).append("name", "ada").append("age", 36),
                    new Document("_id", 2).append("name", "alan").append("age", 41),
                    new Document("_id", 3).append("name", "grace").append("age", 85)));
            people.insertOne(new Document("_id", 4).append("name", "edsger").append("age", 72));

            List<Document> old = people.find(Filters.gt("age", 40)).comment("{\"callingFunction\": \"oldies\"}")
                    .into(new ArrayList<>());
            assertThat(old).extracting(d -> d.getString("name")).containsExactlyInAnyOrder("alan", "grace", "edsger");
            assertThat(people.find(Filters.eq("_id", 1)).first()).containsEntry("name", "ada");
            assertThat(people.find(Filters.in("_id", 1, 2)).into(new ArrayList<>())).hasSize(2);

            assertThat(people.updateOne(Filters.eq("_id", 2), Updates.set("age", 42)).getModifiedCount()).isEqualTo(1);
            assertThat(people.find(Filters.eq("_id", 2)).first()).containsEntry("age", 42);

            List<Document> groups = people.aggregate(List.of(Aggregates.match(Filters.gte("age", 40)),
                    Aggregates.count("n"))).into(new ArrayList<>());
            assertThat(groups).hasSize(1);
            assertThat(groups.get(0).getInteger("n")).isEqualTo(3);
        }

        String stats = proxy.admin("GET", "/stats").body();
        // requests: OP_MSG commands, counted as Envoy counts commands and queries
        assertThat(stat(stats, "mongo.app.cmd.insert.total")).isEqualTo(2);
        assertThat(stat(stats, "mongo.app.cmd.update.total")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.cmd.aggregate.total")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.collection.people.query.total")).isEqualTo(4);
        assertThat(stat(stats, "mongo.app.collection.people.query.scatter_get")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.collection.people.query.multi_get")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.collection.people.callsite.oldies.query.total")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.op_query_scatter_get")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.op_query_multi_get")).isEqualTo(1);
        assertThat(stat(stats, "mongo.app.op_query_no_max_time")).isEqualTo(4);
        assertThat(stat(stats, "mongo.app.op_msg")).isGreaterThanOrEqualTo(8);
        assertThat(stat(stats, "mongo.app.op_msg_reply")).isGreaterThanOrEqualTo(8);
        assertThat(stat(stats, "mongo.app.decoding_error")).isZero();
        // the driver's handshake is the legacy hello: OP_QUERY {isMaster: 1} on admin.$cmd, answered by OP_REPLY
        assertThat(stat(stats, "mongo.app.op_query")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "mongo.app.cmd.isMaster.total")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "mongo.app.op_reply")).isGreaterThanOrEqualTo(1);
        assertThat(stats).contains("mongo.app.collection.people.query.reply_num_docs: P0(",
                "mongo.app.cmd.insert.reply_time_ms: P0(", "mongo.app.collection.people.callsite.oldies.query.reply_size: P0(");

        DistributionSummary docs = histogram("mongo.app.collection.people.query.reply_num_docs");
        assertThat(docs.count()).isEqualTo(4);
        assertThat(docs.max()).isEqualTo(3.0);  // the find of the three oldies
        assertThat(histogram("mongo.app.collection.people.callsite.oldies.query.reply_num_docs").max()).isEqualTo(3.0);
        assertThat(histogram("mongo.app.cmd.insert.reply_num_docs").count()).isEqualTo(2);
        assertThat(histogram("mongo.app.collection.people.query.reply_size").max()).isGreaterThan(3 * 20.0);

        // the access log: one JSON object per line, Envoy's three keys
        List<JsonNode> lines = awaitLogLines(l -> l.path("message").path("command").asText().equals("aggregate"));
        String upstream = "127.0.0.1:" + mongoAddress.getPort();
        for (JsonNode line : lines) {
            assertThat(line.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            assertThat(line.path("upstream_host").asText()).isEqualTo(upstream);
        }
        JsonNode insert = lines.stream().filter(l -> l.path("message").path("command").asText().equals("insert"))
                .findFirst().orElseThrow().path("message");
        assertThat(insert.path("opcode").asText()).isEqualTo("OP_MSG");
        assertThat(insert.path("database").asText()).isEqualTo("test");
        assertThat(insert.path("body").path("insert").asText()).isEqualTo("people");
        assertThat(insert.path("sequences").path("documents")).hasSize(3);
        assertThat(insert.path("sequences").path("documents").get(0).path("name").asText()).isEqualTo("ada");
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.path("message").path("opcode").asText()).isEqualTo("OP_MSG");
            assertThat(l.path("message").path("documents").asInt()).isEqualTo(3);  // a reply, summarized
            assertThat(l.path("message").path("ok").asInt()).isEqualTo(1);
        });
        assertThat(lines).anySatisfy(l -> assertThat(l.path("message").path("opcode").asText()).isEqualTo("OP_QUERY"));
    }

    @Test
    void legacyOpQueryAndOpReplyByHand() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port("mongo"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write(opQuery(7, 0, "admin.$cmd", new BsonDocument("isMaster", new BsonInt32(1))));
            out.flush();
            ByteBuffer reply = readMessage(in);
            assertThat(reply.getInt(8)).isEqualTo(7);       // responseTo
            assertThat(reply.getInt(12)).isEqualTo(1);      // OP_REPLY
            assertThat(reply.getInt(32)).isEqualTo(1);      // numberReturned
        }
        assertThat(proxy.counter("mongo.app.op_query")).isEqualTo(1);
        assertThat(proxy.counter("mongo.app.cmd.isMaster.total")).isEqualTo(1);
        assertThat(proxy.counter("mongo.app.op_reply")).isEqualTo(1);
        assertThat(histogram("mongo.app.cmd.isMaster.reply_num_docs").count()).isEqualTo(1);
        assertThat(histogram("mongo.app.cmd.isMaster.reply_num_docs").max()).isEqualTo(1.0);
        assertThat(proxy.server.stats().gauge("mongo.app.op_query_active")).isZero();
        List<JsonNode> lines = awaitLogLines(l -> l.path("message").path("opcode").asText().equals("OP_REPLY"));
        JsonNode query = lines.get(0).path("message");
        assertThat(query.path("opcode").asText()).isEqualTo("OP_QUERY");
        assertThat(query.path("id").asInt()).isEqualTo(7);
        assertThat(query.path("collection").asText()).isEqualTo("admin.$cmd");
        assertThat(query.path("query").path("isMaster").asInt()).isEqualTo(1);
        assertThat(lines.get(1).path("message").path("response_to").asInt()).isEqualTo(7);
        assertThat(lines.get(1).path("message").path("documents").asInt()).isEqualTo(1);
    }

    @Test
    void malformedMessageCountsDecodingErrorAndBytesStillFlow() throws Exception {
        byte[] ping = opMsg(1, new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonString("admin")));
        // OP_UPDATE (2001): framed correctly but not decoded, as in Envoy: "invalid mongo op 2001"
        byte[] update = message(2, 0, 2001, int32(0), cstring("test.people"), int32(0),
                doc(new BsonDocument()), doc(new BsonDocument("a", new BsonInt32(1))));
        byte[] garbage = "not mongo at all, just bytes".getBytes(StandardCharsets.US_ASCII);
        try (Socket s = new Socket("127.0.0.1", proxy.port("echo"))) {
            s.setSoTimeout(10_000);
            assertThat(roundTrip(s, ping)).isEqualTo(ping);
            byte[] rest = concat(update, garbage, ping);
            assertThat(roundTrip(s, rest)).isEqualTo(rest);
        }
        assertThat(proxy.counter("mongo.raw.op_msg")).isEqualTo(1);
        assertThat(proxy.counter("mongo.raw.op_msg_reply")).isEqualTo(1);  // the echo of the first ping
        assertThat(proxy.counter("mongo.raw.decoding_error")).isEqualTo(1);
        assertThat(proxy.counter("tcp.echo.downstream_cx_rx_bytes_total")).isEqualTo(2L * ping.length + update.length
                + garbage.length);
    }

    @Test
    void opCompressedIsCountedAndSniffingGoesOn() throws Exception {
        byte[] compressed = message(5, 0, 2012, int32(2013), int32(40), new byte[] {1},
                "snappy-compressed payload".getBytes(StandardCharsets.US_ASCII));
        byte[] ping = opMsg(6, new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonString("admin")));
        try (Socket s = new Socket("127.0.0.1", proxy.port("echo"))) {
            s.setSoTimeout(10_000);
            assertThat(roundTrip(s, compressed)).isEqualTo(compressed);
            assertThat(roundTrip(s, ping)).isEqualTo(ping);
        }
        assertThat(proxy.counter("mongo.raw.op_compressed")).isEqualTo(2);  // the request and its echo
        assertThat(proxy.counter("mongo.raw.op_msg")).isEqualTo(1);
        assertThat(proxy.counter("mongo.raw.decoding_error")).isZero();
    }

    @Test
    void delayHoldsTheRequestForFixedDelay() throws Exception {
        byte[] ping = opMsg(9, new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonString("admin")));
        try (Socket s = new Socket("127.0.0.1", proxy.port("delayed"))) {
            s.setSoTimeout(10_000);
            long start = System.nanoTime();
            assertThat(roundTrip(s, ping)).isEqualTo(ping);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(millis).isGreaterThanOrEqualTo(250);  // fixed_delay 0.3s, with tolerance
        }
        assertThat(proxy.counter("mongo.slow.delays_injected")).isEqualTo(1);
        assertThat(proxy.counter("mongo.slow.op_msg")).isEqualTo(1);
    }

    // helpers

    private DistributionSummary histogram(String name) {
        DistributionSummary h = proxy.server.stats().histograms().get(name);
        assertThat(h).as(name).isNotNull();
        return h;
    }

    /** A counter's value from the admin /stats text ({@code name: value} lines). */
    private static long stat(String stats, String name) {
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats");
    }

    /** The access log's lines, parsed, once one matches {@code last} (waits up to 10 s for the writer). */
    private List<JsonNode> awaitLogLines(java.util.function.Predicate<JsonNode> last) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<JsonNode> lines = new ArrayList<>();
            if (Files.exists(accessLog())) {
                for (String l : Files.readAllLines(accessLog())) {
                    if (!l.isBlank()) {
                        lines.add(JSON.readTree(l));
                    }
                }
            }
            if (lines.stream().anyMatch(last) || System.nanoTime() > deadline) {
                assertThat(lines).anyMatch(last);
                return lines;
            }
            Thread.sleep(50);
        }
    }

    private static byte[] roundTrip(Socket s, byte[] bytes) throws IOException {
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
        return s.getInputStream().readNBytes(bytes.length);
    }

    private static ByteBuffer readMessage(DataInputStream in) throws IOException {
        byte[] len = in.readNBytes(4);
        int n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(len);
        all.write(in.readNBytes(n - 4));
        return ByteBuffer.wrap(all.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] doc(BsonDocument d) {
        BasicOutputBuffer out = new BasicOutputBuffer();
        new BsonDocumentCodec().encode(new BsonBinaryWriter(out), d, EncoderContext.builder().build());
        return out.toByteArray();
    }

    static byte[] int32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] cstring(String s) {
        return concat(s.getBytes(StandardCharsets.UTF_8), new byte[1]);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A wire message: the 16-byte header and {@code body}. */
    static byte[] message(int requestId, int responseTo, int opCode, byte[]... body) {
        byte[] b = concat(body);
        return concat(int32(16 + b.length), int32(requestId), int32(responseTo), int32(opCode), b);
    }

    static byte[] opQuery(int requestId, int flags, String collection, BsonDocument query) {
        return message(requestId, 0, 2004, int32(flags), cstring(collection), int32(0), int32(-1), doc(query));
    }

    static byte[] opMsg(int requestId, BsonDocument body) {
        return message(requestId, 0, 2013, int32(0), new byte[] {0}, doc(body));
    }
}
