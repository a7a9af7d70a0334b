package dev.legate.filters.network.mongoproxy;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Splits one direction of a MongoDB connection into messages and decodes each (Envoy's {@code DecoderImpl},
 * {@code codec_impl.cc}, plus {@code OP_MSG} and {@code OP_COMPRESSED}). The framing is ours — a 16-byte
 * little-endian header ({@code messageLength}, {@code requestID}, {@code responseTo}, {@code opCode}) and each
 * opcode's fixed fields and sections, as in MongoDB's wire-protocol reference — and every BSON document is read
 * by {@code org.bson} ({@link BsonScan}).
 *
 * <p>Zero copy where the bytes allow: {@link #onData} reads the caller's buffer with absolute indexes (its
 * reader index is not moved; it is neither retained nor released), and copies only the tail of a message that
 * is not complete yet into a buffer of its own, which is completed from the next reads and then decoded and
 * released (it grows with the bytes received, never to an announced length ahead of them). Messages are
 * decoded and handed to the consumer synchronously, in order.
 *
 * <p>Decoded: {@code OP_REPLY}, {@code OP_QUERY}, {@code OP_GET_MORE}, {@code OP_INSERT},
 * {@code OP_KILL_CURSORS}, {@code OP_COMMAND}, {@code OP_COMMANDREPLY}, {@code OP_MSG}; {@code OP_COMPRESSED}
 * yields its header only. Any other opcode ({@code OP_UPDATE}, {@code OP_DELETE}, the legacy {@code OP_MSG}
 * 1000), a length below 16 or above 48 MiB, or a body that does not parse is a {@link DecodingException}
 * ({@code invalid mongo op 2001}, ...): the caller counts it and stops decoding this connection, as Envoy does.
 *
 * <p>Not thread-safe: one instance per direction of one connection, used on its event loop. Call
 * {@link #release()} when the connection ends.
 */
final class MongoDecoder {

    /** MongoDB's {@code maxMessageSizeBytes}: 48 MB. A larger length is a decoding error. */
    static final int MAX_MESSAGE_LENGTH = 48_000_000;

    private static final int HEADER_LENGTH = 16;

    /** A message that cannot be decoded; the message names what is wrong (Envoy's {@code EnvoyException}). */
    static final class DecodingException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DecodingException(String message) {
            super(message, null, false, false);
        }
    }

    private final boolean renderDocuments;
    private final Consumer<MongoMessage> consumer;
    /** The start of a message that did not fit in the reads so far; ours, released when decoded. */
    private ByteBuf pending;

    /**
     * @param renderDocuments whether to render documents as JSON into the messages (for the access log)
     * @param consumer        gets each decoded message, on the caller's thread, during {@link #onData}
     */
    MongoDecoder(boolean renderDocuments, Consumer<MongoMessage> consumer) {
        this.renderDocuments = renderDocuments;
        this.consumer = requireNonNull(consumer, "consumer");
    }

    /**
     * Decodes every message that {@code data} completes and hands each to the consumer.
     *
     * @param data borrowed: read from its reader index to its writer index, indexes unchanged, not retained
     * @throws DecodingException when a message cannot be decoded; the decoder is then of no further use
     */
    void onData(ByteBuf data) {
        int index = data.readerIndex();
        int end = data.writerIndex();
        if (pending != null) {
            index = fillPending(data, index, end);
            if (!pendingComplete()) {
                return;
            }
            ByteBuf message = pending;
            pending = null;
            try {
                decode(message, message.readerIndex(), message.readableBytes());
            } finally {
                message.release();
            }
        }
        while (end - index >= 4) {
            int length = checkedLength(data.getIntLE(index));
            if (end - index < length) {
                break;
            }
            decode(data, index, length);
            index += length;
        }
        if (index < end) {
            int tail = end - index;
            // sized by what arrived, not by the announced length: a peer that announces 48 MB and sends little
            // costs little; the buffer grows as the message's bytes come
            pending = data.alloc().buffer(Math.max(tail, 256));
            pending.writeBytes(data, index, tail);
        }
    }

    /** Releases the incomplete message kept between reads, if any. Idempotent. */
    void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    /** Copies into {@link #pending} what it still lacks (first its length, then its body); returns the new index. */
    private int fillPending(ByteBuf data, int index, int end) {
        if (pending.readableBytes() < 4) {
            int n = Math.min(4 - pending.readableBytes(), end - index);
            pending.writeBytes(data, index, n);
            index += n;
            if (pending.readableBytes() < 4) {
                return index;
            }
        }
        int missing = checkedLength(pending.getIntLE(pending.readerIndex())) - pending.readableBytes();
        int n = Math.min(missing, end - index);
        pending.writeBytes(data, index, n);
        return index + n;
    }

    private boolean pendingComplete() {
        return pending.readableBytes() >= 4
                && pending.readableBytes() == pending.getIntLE(pending.readerIndex());
    }

    private static int checkedLength(int length) {
        if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
            throw new DecodingException("invalid message length " + length);
        }
        return length;
    }

    /** Decodes the message of {@code length} bytes at {@code index}, then hands it on (outside the try). */
    private void decode(ByteBuf buf, int index, int length) {
        MongoMessage message;
        try {
            message = parse(new Frame(buf, index, index + length));
        } catch (DecodingException e) {
            throw e;
        } catch (RuntimeException e) {
            // org.bson's BSONException and friends, or a read past the message's end
            throw new DecodingException(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        consumer.accept(message);
    }

    private MongoMessage parse(Frame f) {
        f.int32(); // messageLength, checked by the caller
        int requestId = f.int32();
        int responseTo = f.int32();
        int opCode = f.int32();
        return switch (opCode) {
            case MongoMessage.OP_REPLY -> reply(f, requestId, responseTo);
            case MongoMessage.OP_QUERY -> query(f, requestId, responseTo);
            case MongoMessage.OP_GET_MORE -> {
                f.int32(); // ZERO
                yield new MongoMessage.GetMore(requestId, responseTo, f.cstring(), f.int32(), f.int64());
            }
            case MongoMessage.OP_INSERT -> insert(f, requestId, responseTo);
            case MongoMessage.OP_KILL_CURSORS -> killCursors(f, requestId, responseTo);
            case MongoMessage.OP_COMMAND -> command(f, requestId, responseTo);
            case MongoMessage.OP_COMMANDREPLY -> commandReply(f, requestId, responseTo);
            case MongoMessage.OP_MSG -> msg(f, requestId, responseTo);
            case MongoMessage.OP_COMPRESSED ->
                    new MongoMessage.Compressed(requestId, responseTo, f.int32(), f.int32(), f.uint8());
            default -> throw new DecodingException("invalid mongo op " + opCode);
        };
    }

    private MongoMessage.Reply reply(Frame f, int requestId, int responseTo) {
        int flags = f.int32();
        long cursorId = f.int64();
        int startingFrom = f.int32();
        int numberReturned = f.int32();
        if (numberReturned < 0) {
            throw new DecodingException("invalid numberReturned " + numberReturned);
        }
        long size = 0;
        for (int i = 0; i < numberReturned; i++) {
            int docLength = f.document();
            BsonScan.scan(f.buf, f.pos - docLength, docLength); // validates the document
            size += docLength;
        }
        return new MongoMessage.Reply(requestId, responseTo, flags, cursorId, startingFrom, numberReturned,
                numberReturned, size);
    }

    private MongoMessage.Query query(Frame f, int requestId, int responseTo) {
        int flags = f.int32();
        String collection = f.cstring();
        int skip = f.int32();
        int toReturn = f.int32();
        int queryLength = f.document();
        int queryIndex = f.pos - queryLength;
        BsonScan.Summary query = BsonScan.scan(f.buf, queryIndex, queryLength);
        String queryJson = render(f.buf, queryIndex, queryLength);
        String fieldsJson = null;
        if (f.pos < f.end) {
            int fieldsLength = f.document();
            fieldsJson = renderDocuments ? BsonScan.toJson(f.buf, f.pos - fieldsLength, fieldsLength) : null;
        }
        QueryInfo info = QueryInfo.fromQuery(requestId, collection, query);
        return new MongoMessage.Query(requestId, responseTo, flags, collection, skip, toReturn, query, info,
                queryJson, fieldsJson);
    }

    private MongoMessage.Insert insert(Frame f, int requestId, int responseTo) {
        int flags = f.int32();
        String collection = f.cstring();
        List<String> json = renderDocuments ? new ArrayList<>() : null;
        int documents = 0;
        while (f.pos < f.end) {
            int length = f.document();
            String doc = renderOrValidate(f.buf, f.pos - length, length);
            if (json != null) {
                json.add(doc);
            }
            documents++;
        }
        return new MongoMessage.Insert(requestId, responseTo, flags, collection, documents, json);
    }

    private static MongoMessage.KillCursors killCursors(Frame f, int requestId, int responseTo) {
        f.int32(); // ZERO
        int n = f.int32();
        if (n < 0 || (long) n * 8 > f.end - f.pos) {
            throw new DecodingException("invalid numberOfCursorIDs " + n);
        }
        List<Long> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(f.int64());
        }
        return new MongoMessage.KillCursors(requestId, responseTo, List.copyOf(ids));
    }

    private MongoMessage.Command command(Frame f, int requestId, int responseTo) {
        String database = f.cstring();
        String commandName = f.cstring();
        int metadataLength = f.document();
        String metadata = renderOrValidate(f.buf, f.pos - metadataLength, metadataLength);
        int argsLength = f.document();
        String args = renderOrValidate(f.buf, f.pos - argsLength, argsLength);
        List<String> docs = documentsToEnd(f);
        return new MongoMessage.Command(requestId, responseTo, database, commandName, docs.size(),
                renderDocuments ? metadata : null, renderDocuments ? args : null, renderDocuments ? docs : null);
    }

    private MongoMessage.CommandReply commandReply(Frame f, int requestId, int responseTo) {
        int metadataLength = f.document();
        String metadata = renderOrValidate(f.buf, f.pos - metadataLength, metadataLength);
        int replyLength = f.document();
        String reply = renderOrValidate(f.buf, f.pos - replyLength, replyLength);
        List<String> docs = documentsToEnd(f);
        return new MongoMessage.CommandReply(requestId, responseTo, docs.size(),
                renderDocuments ? metadata : null, renderDocuments ? reply : null, renderDocuments ? docs : null);
    }

    /**
     * {@code OP_MSG}: {@code flagBits}, then sections to the end (less a trailing CRC-32C when bit 0 is set).
     * Kind 0 is the body (exactly one); kind 1 is {@code size}, an identifier and documents. Unknown required
     * flag bits (0–15) and unknown section kinds are errors, as the wire-protocol spec demands of a server. The
     * checksum is not verified (the server does).
     */
    private MongoMessage.Msg msg(Frame f, int requestId, int responseTo) {
        int flags = f.int32();
        int unknownRequired = flags & 0xFFFF & ~(MongoMessage.Msg.CHECKSUM_PRESENT | MongoMessage.Msg.MORE_TO_COME);
        if (unknownRequired != 0) {
            throw new DecodingException("invalid OP_MSG flagBits 0x" + Integer.toHexString(flags));
        }
        int sectionsEnd = (flags & MongoMessage.Msg.CHECKSUM_PRESENT) != 0 ? f.end - 4 : f.end;
        if (sectionsEnd < f.pos) {
            throw new DecodingException("invalid OP_MSG: no room for the checksum");
        }
        Frame s = new Frame(f.buf, f.pos, sectionsEnd);
        BsonScan.Summary body = null;
        int bodySize = 0;
        String bodyJson = null;
        List<MongoMessage.Msg.Sequence> sequences = new ArrayList<>(1);
        List<String> sequencesJson = renderDocuments ? new ArrayList<>(1) : null;
        int sequenceDocs = 0;
        long sequenceSize = 0;
        while (s.pos < s.end) {
            int kind = s.uint8();
            if (kind == 0) {
                if (body != null) {
                    throw new DecodingException("invalid OP_MSG: two body sections");
                }
                bodySize = s.document();
                body = BsonScan.scan(s.buf, s.pos - bodySize, bodySize);
                bodyJson = render(s.buf, s.pos - bodySize, bodySize);
            } else if (kind == 1) {
                int start = s.pos;
                int size = s.int32();
                if (size < 5 || size > s.end - start) {
                    throw new DecodingException("invalid OP_MSG document sequence size " + size);
                }
                Frame seq = new Frame(s.buf, s.pos, start + size);
                String identifier = seq.cstring();
                StringBuilder json = renderDocuments ? new StringBuilder("[") : null;
                int docs = 0;
                while (seq.pos < seq.end) {
                    int length = seq.document();
                    String doc = renderOrValidate(seq.buf, seq.pos - length, length);
                    if (json != null) {
                        json.append(docs == 0 ? "" : ", ").append(doc);
                    }
                    docs++;
                    sequenceSize += length;
                }
                sequenceDocs += docs;
                sequences.add(new MongoMessage.Msg.Sequence(identifier, docs));
                if (sequencesJson != null) {
                    sequencesJson.add(json.append(']').toString());
                }
                s.pos = start + size;
            } else {
                throw new DecodingException("invalid OP_MSG section kind " + kind);
            }
        }
        if (body == null || body.fields() == 0) {
            throw new DecodingException("invalid OP_MSG: no body or an empty one");
        }
        return new MongoMessage.Msg(requestId, responseTo, flags, body, bodySize, List.copyOf(sequences),
                sequenceDocs, sequenceSize, bodyJson, sequencesJson == null ? null : List.copyOf(sequencesJson));
    }

    private List<String> documentsToEnd(Frame f) {
        List<String> docs = new ArrayList<>();
        while (f.pos < f.end) {
            int length = f.document();
            docs.add(renderOrValidate(f.buf, f.pos - length, length));
        }
        return docs;
    }

    /** The document as JSON when rendering, else {@code null}. */
    private String render(ByteBuf buf, int index, int length) {
        return renderDocuments ? BsonScan.toJson(buf, index, length) : null;
    }

    /** The document as JSON when rendering; otherwise only checked to be well-formed (and {@code ""}). */
    private String renderOrValidate(ByteBuf buf, int index, int length) {
        if (renderDocuments) {
            return BsonScan.toJson(buf, index, length);
        }
        BsonScan.scan(buf, index, length);
        return "";
    }

    /** A bounded little-endian read cursor over a part of a buffer; reads past {@link #end} are errors. */
    private static final class Frame {
        final ByteBuf buf;
        final int end;
        int pos;

        Frame(ByteBuf buf, int pos, int end) {
            this.buf = buf;
            this.pos = pos;
            this.end = end;
        }

        private void need(int n) {
            if (end - pos < n) {
                throw new DecodingException("message too short: " + n + " byte(s) needed, " + (end - pos) + " left");
            }
        }

        int uint8() {
            need(1);
            return buf.getUnsignedByte(pos++);
        }

        int int32() {
            need(4);
            int v = buf.getIntLE(pos);
            pos += 4;
            return v;
        }

        long int64() {
            need(8);
            long v = buf.getLongLE(pos);
            pos += 8;
            return v;
        }

        /** A NUL-terminated UTF-8 string. */
        String cstring() {
            int nul = buf.indexOf(pos, end, (byte) 0);
            if (nul < 0) {
                throw new DecodingException("unterminated cstring");
            }
            String s = buf.toString(pos, nul - pos, StandardCharsets.UTF_8);
            pos = nul + 1;
            return s;
        }

        /** Skips a BSON document after checking its length fits; returns the length (the document ends at pos). */
        int document() {
            need(4);
            int length = buf.getIntLE(pos);
            if (length < 5 || length > end - pos) {
                throw new DecodingException("invalid document length " + length);
            }
            pos += length;
            return length;
        }
    }
}
