package dev.legate.filters.network.mongoproxy;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One decoded MongoDB wire-protocol message (Envoy's {@code Message} hierarchy in {@code codec.h}), as
 * {@link MongoDecoder} hands it to the filter: the header ({@code requestID}, {@code responseTo}) and what the
 * filter needs of the body. Documents are kept as a {@link BsonScan.Summary} (the few fields the stats read) and,
 * only when the access log is on, as JSON text; the message's bytes are never kept.
 *
 * <p>{@link #toLogJson(boolean)} is Envoy's {@code Message::toString(full)}: the {@code "message"} value of an
 * access-log line. Documents are MongoDB relaxed Extended JSON (Envoy renders them with its own BSON printer).
 * Immutable.
 */
sealed interface MongoMessage {

    /** {@code OP_REPLY}: a reply to {@code OP_QUERY} / {@code OP_GET_MORE}. */
    int OP_REPLY = 1;
    /** {@code OP_UPDATE} (not decoded, as in Envoy). */
    int OP_UPDATE = 2001;
    /** {@code OP_INSERT}. */
    int OP_INSERT = 2002;
    /** {@code OP_QUERY}. */
    int OP_QUERY = 2004;
    /** {@code OP_GET_MORE}. */
    int OP_GET_MORE = 2005;
    /** {@code OP_DELETE} (not decoded, as in Envoy). */
    int OP_DELETE = 2006;
    /** {@code OP_KILL_CURSORS}. */
    int OP_KILL_CURSORS = 2007;
    /** {@code OP_COMMAND} (MongoDB 3.2–3.6 internal). */
    int OP_COMMAND = 2010;
    /** {@code OP_COMMANDREPLY}. */
    int OP_COMMANDREPLY = 2011;
    /** {@code OP_COMPRESSED}: counted, its payload not decompressed. */
    int OP_COMPRESSED = 2012;
    /** {@code OP_MSG}: every request and reply of MongoDB 3.6+ drivers (not decoded by Envoy). */
    int OP_MSG = 2013;

    /** The header's {@code requestID}. */
    int requestId();

    /** The header's {@code responseTo}. */
    int responseTo();

    /**
     * The message as a JSON object, for the access log.
     *
     * @param full whether to render documents (Envoy logs requests in full, replies summarized)
     */
    String toLogJson(boolean full);

    /** {@code OP_QUERY}; {@code info} is Envoy's {@code QueryMessageInfo}, computed while decoding. */
    record Query(int requestId, int responseTo, int flags, String fullCollectionName, int numberToSkip,
                 int numberToReturn, BsonScan.Summary query, QueryInfo info, String queryJson, String fieldsJson)
            implements MongoMessage {
        /** Flag bit 1: tailable cursor. */
        static final int TAILABLE_CURSOR = 1 << 1;
        /** Flag bit 4: no cursor timeout. */
        static final int NO_CURSOR_TIMEOUT = 1 << 4;
        /** Flag bit 5: await data. */
        static final int AWAIT_DATA = 1 << 5;
        /** Flag bit 6: exhaust. */
        static final int EXHAUST = 1 << 6;

        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_QUERY\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"flags\": \"" + hex(flags) + "\", \"collection\": \"" + escape(fullCollectionName)
                    + "\", \"skip\": " + numberToSkip + ", \"return\": " + numberToReturn + ", \"query\": "
                    + (full && queryJson != null ? queryJson : "\"{...}\"") + ", \"fields\": "
                    + (fieldsJson != null ? fieldsJson : "{}") + "}";
        }
    }

    /**
     * {@code OP_REPLY}.
     *
     * @param documents     {@code numberReturned} documents read
     * @param documentsSize their total size in bytes
     */
    record Reply(int requestId, int responseTo, int flags, long cursorId, int startingFrom, int numberReturned,
                 int documents, long documentsSize) implements MongoMessage {
        /** Flag bit 0: cursor not found. */
        static final int CURSOR_NOT_FOUND = 1;
        /** Flag bit 1: query failure. */
        static final int QUERY_FAILURE = 1 << 1;

        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_REPLY\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"flags\": \"" + hex(flags) + "\", \"cursor\": \"" + cursorId + "\", \"from\": "
                    + startingFrom + ", \"returned\": " + numberReturned + ", \"documents\": " + documents + "}";
        }
    }

    /** {@code OP_GET_MORE}. */
    record GetMore(int requestId, int responseTo, String fullCollectionName, int numberToReturn, long cursorId)
            implements MongoMessage {
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_GET_MORE\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"collection\": \"" + escape(fullCollectionName) + "\", \"return\": " + numberToReturn
                    + ", \"cursor\": " + cursorId + "}";
        }
    }

    /** {@code OP_INSERT}; {@code documentsJson} is {@code null} unless documents were rendered. */
    record Insert(int requestId, int responseTo, int flags, String fullCollectionName, int documents,
                  List<String> documentsJson) implements MongoMessage {
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_INSERT\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"flags\": \"" + hex(flags) + "\", \"collection\": \"" + escape(fullCollectionName)
                    + "\", \"documents\": " + (full && documentsJson != null ? list(documentsJson) : documents) + "}";
        }
    }

    /** {@code OP_KILL_CURSORS}. */
    record KillCursors(int requestId, int responseTo, List<Long> cursorIds) implements MongoMessage {
        /** Envoy's rendering, with its quirks ({@code "KILL_CURSORS"}, string {@code response_to}). */
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"KILL_CURSORS\", \"id\": " + requestId + ", \"response_to\": \"" + hex(responseTo)
                    + "\", \"num_cursors\": \"" + cursorIds.size() + "\", \"cursors\": "
                    + cursorIds.stream().map(String::valueOf).collect(Collectors.joining(", ", "[", "]")) + "}";
        }
    }

    /** {@code OP_COMMAND}. */
    record Command(int requestId, int responseTo, String database, String commandName, int inputDocs,
                   String metadataJson, String commandArgsJson, List<String> inputDocsJson) implements MongoMessage {
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_COMMAND\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"database\": \"" + escape(database) + "\", \"commandName\": \"" + escape(commandName)
                    + "\", \"metadata\": " + orEmpty(metadataJson) + ", \"commandArgs\": " + orEmpty(commandArgsJson)
                    + ", \"inputDocs\": " + (full && inputDocsJson != null ? list(inputDocsJson) : inputDocs) + "}";
        }
    }

    /** {@code OP_COMMANDREPLY}. */
    record CommandReply(int requestId, int responseTo, int outputDocs, String metadataJson, String commandReplyJson,
                        List<String> outputDocsJson) implements MongoMessage {
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_COMMANDREPLY\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"metadata\": " + orEmpty(metadataJson) + ", \"commandReply\": " + orEmpty(commandReplyJson)
                    + ", \"outputDocs\": " + (full && outputDocsJson != null ? list(outputDocsJson) : outputDocs) + "}";
        }
    }

    /**
     * {@code OP_MSG}: a command (from the client) or its reply (from the server).
     *
     * @param flagBits      the flag bits ({@link #MORE_TO_COME}, ...)
     * @param body          the kind-0 section
     * @param sequences     the kind-1 sections: identifier and document count, in order
     * @param sequenceDocs  documents in all kind-1 sections
     * @param sequenceSize  their total size in bytes
     * @param bodySize      the body's size in bytes
     * @param bodyJson      the body as JSON, or {@code null} when not rendered
     * @param sequencesJson per kind-1 section, its documents as a JSON array, or {@code null}
     */
    record Msg(int requestId, int responseTo, int flagBits, BsonScan.Summary body, int bodySize,
               List<Sequence> sequences, int sequenceDocs, long sequenceSize, String bodyJson,
               List<String> sequencesJson) implements MongoMessage {
        /** Flag bit 0: a CRC-32C checksum ends the message. */
        static final int CHECKSUM_PRESENT = 1;
        /** Flag bit 1: no reply follows (the other side sends more without waiting). */
        static final int MORE_TO_COME = 1 << 1;

        /** A kind-1 section: {@code identifier} (e.g. {@code documents}) and how many documents it holds. */
        record Sequence(String identifier, int documents) {
        }

        /** The command name (the body's first key), or {@code ""}. */
        String command() {
            return body.firstKey() == null ? "" : body.firstKey();
        }

        /**
         * The documents a reply carries: those of {@code cursor.firstBatch}/{@code nextBatch} when the body has
         * one, otherwise the body and the kind-1 documents.
         */
        int replyDocuments() {
            BsonScan.Summary cursor = body.cursor();
            if (cursor != null && cursor.batchDocs() >= 0) {
                return cursor.batchDocs();
            }
            return 1 + sequenceDocs;
        }

        /** The size in bytes of {@link #replyDocuments()}. */
        long replySize() {
            BsonScan.Summary cursor = body.cursor();
            if (cursor != null && cursor.batchDocs() >= 0) {
                return cursor.batchSize();
            }
            return bodySize + sequenceSize;
        }

        /** Requests in full (body and document sequences); replies as their status and document count. */
        @Override
        public String toLogJson(boolean full) {
            StringBuilder sb = new StringBuilder(128)
                    .append("{\"opcode\": \"OP_MSG\", \"id\": ").append(requestId)
                    .append(", \"response_to\": ").append(responseTo)
                    .append(", \"flags\": \"").append(hex(flagBits)).append('"');
            if (!full) {
                sb.append(", \"ok\": ").append(Double.isNaN(body.ok()) ? "null" : formatNumber(body.ok()))
                        .append(", \"documents\": ").append(replyDocuments()).append('}');
                return sb.toString();
            }
            sb.append(", \"database\": \"").append(escape(body.db() == null ? "" : body.db()))
                    .append("\", \"command\": \"").append(escape(command()))
                    .append("\", \"body\": ").append(orEmpty(bodyJson))
                    .append(", \"sequences\": {");
            for (int i = 0; i < sequences.size(); i++) {
                Sequence s = sequences.get(i);
                sb.append(i == 0 ? "" : ", ").append('"').append(escape(s.identifier())).append("\": ")
                        .append(sequencesJson != null ? sequencesJson.get(i) : String.valueOf(s.documents()));
            }
            return sb.append("}}").toString();
        }
    }

    /** {@code OP_COMPRESSED}: the header of a compressed message; the payload is not decompressed. */
    record Compressed(int requestId, int responseTo, int originalOpcode, int uncompressedSize, int compressorId)
            implements MongoMessage {
        @Override
        public String toLogJson(boolean full) {
            return "{\"opcode\": \"OP_COMPRESSED\", \"id\": " + requestId + ", \"response_to\": " + responseTo
                    + ", \"original_opcode\": " + originalOpcode + ", \"uncompressed_size\": " + uncompressedSize
                    + ", \"compressor\": " + compressorId + "}";
        }
    }

    private static String hex(int v) {
        return "0x" + Integer.toHexString(v);
    }

    private static String list(List<String> json) {
        return "[" + String.join(", ", json) + "]";
    }

    private static String orEmpty(String json) {
        return json == null ? "{}" : json;
    }

    private static String formatNumber(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
    }

    /** Escapes {@code s} for a JSON string. */
    static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '"' -> "\\\"";
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> c < 0x20 ? String.format("\\u%04x", (int) c) : null;
            };
            if (rep != null && sb == null) {
                sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (sb != null) {
                if (rep != null) {
                    sb.append(rep);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }
}
