package dev.legate.filters.network.mongoproxy;

import static dev.legate.filters.network.mongoproxy.Wire.buf;
import static dev.legate.filters.network.mongoproxy.Wire.concat;
import static dev.legate.filters.network.mongoproxy.Wire.cstring;
import static dev.legate.filters.network.mongoproxy.Wire.doc;
import static dev.legate.filters.network.mongoproxy.Wire.int32;
import static dev.legate.filters.network.mongoproxy.Wire.int64;
import static dev.legate.filters.network.mongoproxy.Wire.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Filter tier, the codec: wire messages built with org.bson → {@link MongoMessage}s; framing across reads. */
class MongoDecoderTest {

    private final List<MongoMessage> decoded = new ArrayList<>();
    private MongoDecoder decoder = new MongoDecoder(false, decoded::add);

    @AfterEach
    void release() {
        decoder.release();
    }

    /** Feeds {@code bytes} in one read, checking that the buffer is borrowed: indexes and refCnt unchanged. */
    private void feed(byte[] bytes) {
        ByteBuf b = buf(bytes);
        try {
            decoder.onData(b);
            assertThat(b.readerIndex()).isZero();
            assertThat(b.writerIndex()).isEqualTo(bytes.length);
            assertThat(b.refCnt()).isEqualTo(1);
        } finally {
            b.release();
        }
    }

    private MongoMessage only(byte[] bytes) {
        feed(bytes);
        assertThat(decoded).hasSize(1);
        return decoded.get(0);
    }

    private void rendering() {
        decoder = new MongoDecoder(true, decoded::add);
    }

    @Test
    void opMsgBodyAndDocumentSequence() {
        rendering();
        byte[] msg = message(11, 0, MongoMessage.OP_MSG, int32(0), new byte[] {0},
                doc("{insert: 'people', ordered: true, $db: 'test'}"),
                Wire.sequence("documents", "{_id: 1, name: 'ada'}", "{_id: 2, name: 'alan'}"));
        MongoMessage.Msg m = (MongoMessage.Msg) only(msg);
        assertThat(m.requestId()).isEqualTo(11);
        assertThat(m.command()).isEqualTo("insert");
        assertThat(m.body().firstString()).isEqualTo("people");
        assertThat(m.body().db()).isEqualTo("test");
        assertThat(m.sequences()).containsExactly(new MongoMessage.Msg.Sequence("documents", 2));
        assertThat(m.sequenceDocs()).isEqualTo(2);
        assertThat(m.sequenceSize()).isEqualTo(doc("{_id: 1, name: 'ada'}").length + doc("{_id: 2, name: 'alan'}").length);
        assertThat(BsonDocument.parse(m.toLogJson(true)))
                .isEqualTo(BsonDocument.parse("""
                        {"opcode": "OP_MSG", "id": 11, "response_to": 0, "flags": "0x0", "database": "test",
                         "command": "insert", "body": {"insert": "people", "ordered": true, "$db": "test"},
                         "sequences": {"documents": [{"_id": 1, "name": "ada"}, {"_id": 2, "name": "alan"}]}}"""));
    }

    @Test
    void opMsgReplyCountsTheCursorBatch() {
        MongoMessage.Msg m = (MongoMessage.Msg) only(Wire.opMsg(12, 11, 0,
                "{cursor: {firstBatch: [{_id: 1}, {_id: 2, a: 'xyz'}, {_id: 3}], id: {$numberLong: '0'},"
                        + " ns: 'test.people'}, ok: 1.0}"));
        assertThat(m.responseTo()).isEqualTo(11);
        assertThat(m.replyDocuments()).isEqualTo(3);
        assertThat(m.replySize()).isEqualTo(doc("{_id: 1}").length + doc("{_id: 2, a: 'xyz'}").length + doc("{_id: 3}").length);
        assertThat(m.toLogJson(false))
                .isEqualTo("{\"opcode\": \"OP_MSG\", \"id\": 12, \"response_to\": 11, \"flags\": \"0x0\", \"ok\": 1, \"documents\": 3}");

        decoded.clear();
        byte[] body = doc("{n: 2, ok: 1}");
        MongoMessage.Msg plain = (MongoMessage.Msg) only(Wire.opMsg(13, 12, 0, "{n: 2, ok: 1}"));
        assertThat(plain.replyDocuments()).isEqualTo(1);  // no cursor: the body itself
        assertThat(plain.replySize()).isEqualTo(body.length);
    }

    @Test
    void opMsgChecksumIsSkippedAndUnknownRequiredFlagsAreErrors() {
        byte[] withChecksum = message(1, 0, MongoMessage.OP_MSG, int32(MongoMessage.Msg.CHECKSUM_PRESENT),
                new byte[] {0}, doc("{ping: 1, $db: 'admin'}"), int32(0x12345678));
        assertThat(((MongoMessage.Msg) only(withChecksum)).command()).isEqualTo("ping");

        byte[] exhaustAllowed = Wire.opMsg(2, 0, 1 << 16, "{ping: 1}");  // bit 16: optional, ignored
        feed(exhaustAllowed);
        assertThat(decoded).hasSize(2);

        assertThatThrownBy(() -> feed(Wire.opMsg(3, 0, 1 << 2, "{ping: 1}")))
                .isInstanceOf(MongoDecoder.DecodingException.class)
                .hasMessage("invalid OP_MSG flagBits 0x4");
    }

    @Test
    void opMsgBadSectionsAreErrors() {
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_MSG, int32(0), new byte[] {2}, doc("{a: 1}"))))
                .hasMessage("invalid OP_MSG section kind 2");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_MSG, int32(0), Wire.sequence("documents", "{a: 1}"))))
                .hasMessage("invalid OP_MSG: no body or an empty one");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_MSG, int32(0), new byte[] {0}, doc("{a: 1}"),
                new byte[] {0}, doc("{b: 1}"))))
                .hasMessage("invalid OP_MSG: two body sections");
    }

    @Test
    void opQueryWithFieldsAndQueryInfo() {
        rendering();
        byte[] q = message(5, 0, MongoMessage.OP_QUERY, int32(MongoMessage.Query.TAILABLE_CURSOR),
                cstring("test.people"), int32(10), int32(20),
                doc("{$query: {_id: {$in: [1, 2]}}, $comment: '{\"callingFunction\": \"getByIds\"}', $maxTimeMS: 100}"),
                doc("{name: 1}"));
        MongoMessage.Query m = (MongoMessage.Query) only(q);
        assertThat(m.flags()).isEqualTo(MongoMessage.Query.TAILABLE_CURSOR);
        assertThat(m.fullCollectionName()).isEqualTo("test.people");
        assertThat(m.numberToSkip()).isEqualTo(10);
        assertThat(m.numberToReturn()).isEqualTo(20);
        assertThat(m.info()).isEqualTo(new QueryInfo(5, "", "people", "getByIds", 100, QueryInfo.Type.MULTI_GET));
        assertThat(BsonDocument.parse(m.toLogJson(true))).isEqualTo(BsonDocument.parse("""
                {"opcode": "OP_QUERY", "id": 5, "response_to": 0, "flags": "0x2", "collection": "test.people",
                 "skip": 10, "return": 20,
                 "query": {"$query": {"_id": {"$in": [1, 2]}}, "$comment": "{\\"callingFunction\\": \\"getByIds\\"}",
                           "$maxTimeMS": 100},
                 "fields": {"name": 1}}"""));
        assertThat(m.toLogJson(false)).contains("\"query\": \"{...}\"");
    }

    @Test
    void opQueryCommandsAsEnvoyReadsThem() {
        feed(Wire.opQuery(1, 0, "admin.$cmd", "{ismaster: 1}"));
        feed(Wire.opQuery(2, 0, "test.$cmd", "{$query: {insert: 'people', documents: []}}"));
        feed(Wire.opQuery(3, 0, "test.$cmd", "{find: 'people', filter: {_id: 7}, comment: '{\"callingFunction\": \"f\"}'}"));
        feed(Wire.opQuery(4, 0, "test.people", "{name: 'ada'}"));
        assertThat(decoded).extracting(m -> ((MongoMessage.Query) m).info()).containsExactly(
                new QueryInfo(1, "isMaster", "", "", 0, QueryInfo.Type.SCATTER_GET),
                new QueryInfo(2, "insert", "", "", 0, QueryInfo.Type.SCATTER_GET),
                new QueryInfo(3, "", "people", "f", 0, QueryInfo.Type.PRIMARY_KEY),
                new QueryInfo(4, "", "people", "", 0, QueryInfo.Type.SCATTER_GET));

        assertThatThrownBy(() -> feed(Wire.opQuery(5, 0, "nodot", "{}"))).hasMessage("invalid full collection name");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(Wire.opQuery(6, 0, "admin.$cmd", "{}"))).hasMessage("invalid query command");
    }

    @Test
    void opReply() {
        MongoMessage.Reply r = (MongoMessage.Reply) only(Wire.opReply(9, 5, MongoMessage.Reply.QUERY_FAILURE, 77L,
                "{a: 1}", "{b: 'two'}"));
        assertThat(r.responseTo()).isEqualTo(5);
        assertThat(r.flags()).isEqualTo(MongoMessage.Reply.QUERY_FAILURE);
        assertThat(r.cursorId()).isEqualTo(77L);
        assertThat(r.documents()).isEqualTo(2);
        assertThat(r.documentsSize()).isEqualTo(doc("{a: 1}").length + doc("{b: 'two'}").length);
        assertThat(r.toLogJson(false)).isEqualTo("{\"opcode\": \"OP_REPLY\", \"id\": 9, \"response_to\": 5,"
                + " \"flags\": \"0x2\", \"cursor\": \"77\", \"from\": 0, \"returned\": 2, \"documents\": 2}");
    }

    @Test
    void getMoreInsertKillCursorsCommandAndCommandReply() {
        rendering();
        feed(message(1, 0, MongoMessage.OP_GET_MORE, int32(0), cstring("test.people"), int32(50), int64(123L)));
        feed(message(2, 0, MongoMessage.OP_INSERT, int32(1), cstring("test.people"), doc("{_id: 1}"), doc("{_id: 2}")));
        feed(message(3, 0, MongoMessage.OP_KILL_CURSORS, int32(0), int32(2), int64(5L), int64(6L)));
        feed(message(4, 0, MongoMessage.OP_COMMAND, cstring("test"), cstring("count"), doc("{}"), doc("{count: 'people'}")));
        feed(message(5, 4, MongoMessage.OP_COMMANDREPLY, doc("{}"), doc("{n: 2, ok: 1}"), doc("{x: 1}")));
        assertThat(decoded).hasSize(5);
        assertThat(decoded.get(0)).isEqualTo(new MongoMessage.GetMore(1, 0, "test.people", 50, 123L));
        MongoMessage.Insert insert = (MongoMessage.Insert) decoded.get(1);
        assertThat(insert.documents()).isEqualTo(2);
        assertThat(insert.toLogJson(true)).isEqualTo("{\"opcode\": \"OP_INSERT\", \"id\": 2, \"response_to\": 0,"
                + " \"flags\": \"0x1\", \"collection\": \"test.people\", \"documents\": [{\"_id\": 1}, {\"_id\": 2}]}");
        assertThat(decoded.get(2).toLogJson(true)).isEqualTo("{\"opcode\": \"KILL_CURSORS\", \"id\": 3,"
                + " \"response_to\": \"0x0\", \"num_cursors\": \"2\", \"cursors\": [5, 6]}");
        MongoMessage.Command c = (MongoMessage.Command) decoded.get(3);
        assertThat(c.database()).isEqualTo("test");
        assertThat(c.commandName()).isEqualTo("count");
        assertThat(c.inputDocs()).isZero();
        MongoMessage.CommandReply cr = (MongoMessage.CommandReply) decoded.get(4);
        assertThat(cr.outputDocs()).isEqualTo(1);
        assertThat(cr.toLogJson(true)).isEqualTo("{\"opcode\": \"OP_COMMANDREPLY\", \"id\": 5, \"response_to\": 4,"
                + " \"metadata\": {}, \"commandReply\": {\"n\": 2, \"ok\": 1}, \"outputDocs\": [{\"x\": 1}]}");
    }

    @Test
    void opCompressedYieldsItsHeader() {
        MongoMessage m = only(message(8, 0, MongoMessage.OP_COMPRESSED, int32(MongoMessage.OP_MSG), int32(100),
                new byte[] {2}, new byte[] {9, 9, 9, 9, 9}));
        assertThat(m).isEqualTo(new MongoMessage.Compressed(8, 0, MongoMessage.OP_MSG, 100, 2));
    }

    @Test
    void messagesSplitAcrossReadsAreDecodedOnce() {
        byte[] a = Wire.opMsg(1, 0, 0, "{find: 'people', filter: {_id: 1}, $db: 'test'}");
        byte[] b = Wire.opMsg(2, 0, 0, "{insert: 'people', $db: 'test'}");
        byte[] all = concat(a, b, a);
        // one byte per read
        for (byte x : all) {
            feed(new byte[] {x});
        }
        assertThat(decoded).extracting(MongoMessage::requestId).containsExactly(1, 2, 1);
        // two and a half messages, then the rest
        decoded.clear();
        int cut = a.length + b.length + 7;
        feed(Arrays.copyOfRange(all, 0, cut));
        assertThat(decoded).extracting(MongoMessage::requestId).containsExactly(1, 2);
        feed(Arrays.copyOfRange(all, cut, all.length));
        assertThat(decoded).extracting(MongoMessage::requestId).containsExactly(1, 2, 1);
        // a header cut inside the length field
        decoded.clear();
        feed(Arrays.copyOfRange(a, 0, 2));
        feed(Arrays.copyOfRange(a, 2, a.length));
        assertThat(decoded).hasSize(1);
    }

    @Test
    void aLargeMessageInManySmallReads() {
        String big = "x".repeat(300_000);
        byte[] msg = message(1, 0, MongoMessage.OP_MSG, int32(0), new byte[] {0}, doc("{insert: 'blobs', $db: 'test'}"),
                Wire.sequence("documents", "{_id: 1, data: '" + big + "'}", "{_id: 2}"));
        for (int i = 0; i < msg.length; i += 1000) {
            feed(Arrays.copyOfRange(msg, i, Math.min(msg.length, i + 1000)));
        }
        MongoMessage.Msg m = (MongoMessage.Msg) decoded.get(0);
        assertThat(decoded).hasSize(1);
        assertThat(m.sequenceDocs()).isEqualTo(2);
        assertThat(m.sequenceSize()).isGreaterThan(300_000);
    }

    @Test
    void invalidFramingAndOpcodesAreErrors() {
        assertThatThrownBy(() -> feed(concat(int32(12), int32(1), int32(0), int32(2013))))
                .isInstanceOf(MongoDecoder.DecodingException.class).hasMessage("invalid message length 12");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(int32(MongoDecoder.MAX_MESSAGE_LENGTH + 1)))
                .hasMessage("invalid message length " + (MongoDecoder.MAX_MESSAGE_LENGTH + 1));
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_UPDATE, int32(0), cstring("a.b"), int32(0),
                doc("{}"), doc("{}")))).hasMessage("invalid mongo op 2001");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(message(1, 0, 1000, new byte[4]))).hasMessage("invalid mongo op 1000");
    }

    @Test
    void malformedBsonIsAnError() {
        byte[] d = doc("{find: 'people', filter: {_id: 1}}");
        d[4] = 0x20;  // the first element's type: not a BSON type
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_MSG, int32(0), new byte[] {0}, d)))
                .isInstanceOf(MongoDecoder.DecodingException.class);
        decoder = new MongoDecoder(false, decoded::add);
        byte[] shortDoc = doc("{a: 1}");
        shortDoc[0] = 100;  // claims more bytes than the message has
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_MSG, int32(0), new byte[] {0}, shortDoc)))
                .hasMessage("invalid document length 100");
        decoder = new MongoDecoder(false, decoded::add);
        assertThatThrownBy(() -> feed(message(1, 0, MongoMessage.OP_GET_MORE, int32(0), "abc".getBytes())))
                .hasMessage("unterminated cstring");
    }

    @Test
    void anIncompleteMessageIsReleased() {
        byte[] a = Wire.opMsg(1, 0, 0, "{ping: 1}");
        feed(Arrays.copyOfRange(a, 0, a.length - 1));
        assertThat(decoded).isEmpty();
        decoder.release();  // the leak detector (PARANOID) fails the class if the kept tail leaks
        decoder.release();  // idempotent
    }
}
