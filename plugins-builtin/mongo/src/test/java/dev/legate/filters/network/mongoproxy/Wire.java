package dev.legate.filters.network.mongoproxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;

/**
 * Wire messages for tests: documents encoded by {@code org.bson}'s {@link BsonBinaryWriter}, framed as in MongoDB's
 * wire-protocol reference (header: length, requestID, responseTo, opCode; little-endian).
 */
final class Wire {

    private Wire() {
    }

    /** {@code json} (MongoDB Extended JSON) encoded as BSON. */
    static byte[] doc(String json) {
        return doc(BsonDocument.parse(json));
    }

    static byte[] doc(BsonDocument d) {
        BasicOutputBuffer out = new BasicOutputBuffer();
        new BsonDocumentCodec().encode(new BsonBinaryWriter(out), d, EncoderContext.builder().build());
        return out.toByteArray();
    }

    static byte[] int32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] int64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
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

    /** A message: header and {@code body}. */
    static byte[] message(int requestId, int responseTo, int opCode, byte[]... body) {
        byte[] b = concat(body);
        return concat(int32(16 + b.length), int32(requestId), int32(responseTo), int32(opCode), b);
    }

    static byte[] opQuery(int requestId, int flags, String collection, String query) {
        return message(requestId, 0, MongoMessage.OP_QUERY, int32(flags), cstring(collection), int32(0), int32(-1),
                doc(query));
    }

    static byte[] opReply(int requestId, int responseTo, int flags, long cursorId, String... docs) {
        byte[][] parts = new byte[docs.length + 4][];
        parts[0] = int32(flags);
        parts[1] = int64(cursorId);
        parts[2] = int32(0);
        parts[3] = int32(docs.length);
        for (int i = 0; i < docs.length; i++) {
            parts[4 + i] = doc(docs[i]);
        }
        return message(requestId, responseTo, MongoMessage.OP_REPLY, parts);
    }

    /** {@code OP_MSG} with a body section only. */
    static byte[] opMsg(int requestId, int responseTo, int flags, String body) {
        return message(requestId, responseTo, MongoMessage.OP_MSG, int32(flags), new byte[] {0}, doc(body));
    }

    /** A kind-1 section: size, identifier, documents. */
    static byte[] sequence(String identifier, String... docs) {
        byte[][] encoded = new byte[docs.length][];
        for (int i = 0; i < docs.length; i++) {
            encoded[i] = doc(docs[i]);
        }
        byte[] payload = concat(cstring(identifier), concat(encoded));
        return concat(new byte[] {1}, int32(4 + payload.length), payload);
    }

    /** A pooled direct buffer with {@code bytes}, as the host's socket reads make them. */
    static ByteBuf buf(byte[] bytes) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
        b.writeBytes(bytes);
        return b;
    }
}
