package dev.legate.filters.network.mongoproxy;

import io.netty.buffer.ByteBuf;
import java.io.StringWriter;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriter;
import org.bson.json.JsonWriterSettings;

/**
 * Reads the few fields of a BSON document that mongo_proxy's stats need, with the {@code org.bson} streaming
 * reader over the message's own bytes (a {@link ByteBuf#nioBuffer(int, int)} view: no copy, no document tree):
 * the first key (the command name), {@code _id}'s kind, {@code $query} / {@code filter} / {@code cursor}
 * (one level each), {@code $comment} / {@code comment}, {@code $maxTimeMS} / {@code maxTimeMS}, {@code $db},
 * {@code collection}, {@code ok}, and the size of a cursor's {@code firstBatch} / {@code nextBatch}. Every other
 * value is skipped by its length. {@link #toJson} renders a whole document for the access log.
 *
 * <p>Stateless; call on any thread. Malformed BSON throws {@link org.bson.BSONException} (or another
 * {@link RuntimeException} of the library), which {@link MongoDecoder} turns into a decoding error.
 */
final class BsonScan {

    /** How deep {@code $query}, {@code filter} and {@code cursor} are followed. */
    private static final int MAX_DEPTH = 2;

    private static final JsonWriterSettings JSON = JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();

    private BsonScan() {
    }

    /** What {@code _id} is (Envoy's {@code QueryMessageInfo::QueryType} comes from it). */
    enum IdKind {
        /** No {@code _id}: a scatter get. */
        NONE,
        /** A scalar {@code _id}: a primary-key get. */
        SCALAR,
        /** A document or array {@code _id} (e.g. {@code {$in: [...]}}): a multi get. */
        NON_SCALAR
    }

    /**
     * The fields of one document that the stats read.
     *
     * @param firstKey       the first key, or {@code null} for an empty document (a command's name)
     * @param firstString    the first value when it is a string (a command's collection), else {@code null}
     * @param fields         how many top-level fields
     * @param id             {@code _id}'s kind
     * @param query          {@code $query} when it is a document, else {@code null}
     * @param filter         {@code filter} when it is a document, else {@code null}
     * @param cursor         {@code cursor} when it is a document, else {@code null}
     * @param dollarComment  {@code $comment} when it is a string
     * @param comment        {@code comment} when it is a string
     * @param dollarMaxTime  {@code $maxTimeMS}: its value when int32/int64, 0 for another type, {@code null} if absent
     * @param maxTime        {@code maxTimeMS}, likewise
     * @param collection     {@code collection} when it is a string ({@code getMore})
     * @param db             {@code $db} when it is a string ({@code OP_MSG})
     * @param ok             {@code ok} as a number, or NaN when absent
     * @param batchDocs      documents in {@code firstBatch} / {@code nextBatch}, or -1 when neither is an array
     * @param batchSize      their total size in bytes
     */
    record Summary(String firstKey, String firstString, int fields, IdKind id, Summary query, Summary filter,
                   Summary cursor, String dollarComment, String comment, Long dollarMaxTime, Long maxTime,
                   String collection, String db, double ok, int batchDocs, long batchSize) {

        /** Envoy's {@code parseMaxTime}: {@code $maxTimeMS}, else {@code maxTimeMS}, else 0. */
        long maxTimeMs() {
            if (dollarMaxTime != null) {
                return dollarMaxTime;
            }
            return maxTime == null ? 0 : maxTime;
        }
    }

    /**
     * Scans the document of {@code length} bytes at {@code index} of {@code buf} (indexes unchanged).
     *
     * @throws RuntimeException of {@code org.bson} when the bytes are not a valid document
     */
    static Summary scan(ByteBuf buf, int index, int length) {
        try (BsonBinaryReader r = new BsonBinaryReader(buf.nioBuffer(index, length))) {
            return scanDocument(r, 0);
        }
    }

    /** The document at {@code index} as MongoDB relaxed Extended JSON. */
    static String toJson(ByteBuf buf, int index, int length) {
        try (BsonBinaryReader r = new BsonBinaryReader(buf.nioBuffer(index, length))) {
            StringWriter out = new StringWriter(Math.min(length * 2, 4096));
            new JsonWriter(out, JSON).pipe(r);
            return out.toString();
        }
    }

    private static Summary scanDocument(BsonBinaryReader r, int depth) {
        r.readStartDocument();
        String firstKey = null;
        String firstString = null;
        int fields = 0;
        IdKind id = IdKind.NONE;
        Summary query = null;
        Summary filter = null;
        Summary cursor = null;
        String dollarComment = null;
        String comment = null;
        Long dollarMaxTime = null;
        Long maxTime = null;
        String collection = null;
        String db = null;
        double ok = Double.NaN;
        int batchDocs = -1;
        long batchSize = 0;

        for (BsonType t = r.readBsonType(); t != BsonType.END_OF_DOCUMENT; t = r.readBsonType()) {
            String name = r.readName();
            boolean first = fields++ == 0;
            if (first) {
                firstKey = name;
            }
            if (name.equals("_id")) {
                id = t == BsonType.DOCUMENT || t == BsonType.ARRAY ? IdKind.NON_SCALAR : IdKind.SCALAR;
                r.skipValue();
            } else if (t == BsonType.STRING && (first || isStringKey(name))) {
                String v = r.readString();
                if (first) {
                    firstString = v;
                }
                switch (name) {
                    case "$comment" -> dollarComment = v;
                    case "comment" -> comment = v;
                    case "collection" -> collection = v;
                    case "$db" -> db = v;
                    default -> { }
                }
            } else if (t == BsonType.DOCUMENT && depth < MAX_DEPTH && isDocumentKey(name)) {
                Summary nested = scanDocument(r, depth + 1);
                switch (name) {
                    case "$query" -> query = nested;
                    case "filter" -> filter = nested;
                    default -> cursor = nested;
                }
            } else if (name.equals("$maxTimeMS") || name.equals("maxTimeMS")) {
                long v = switch (t) {
                    case INT32 -> r.readInt32();
                    case INT64 -> r.readInt64();
                    default -> {
                        r.skipValue();
                        yield 0;
                    }
                };
                if (name.charAt(0) == '$') {
                    dollarMaxTime = v;
                } else {
                    maxTime = v;
                }
            } else if (name.equals("ok")) {
                ok = switch (t) {
                    case DOUBLE -> r.readDouble();
                    case INT32 -> r.readInt32();
                    case INT64 -> r.readInt64();
                    case BOOLEAN -> r.readBoolean() ? 1 : 0;
                    default -> {
                        r.skipValue();
                        yield Double.NaN;
                    }
                };
            } else if (t == BsonType.ARRAY && (name.equals("firstBatch") || name.equals("nextBatch"))) {
                r.readStartArray();
                batchDocs = 0;
                for (BsonType e = r.readBsonType(); e != BsonType.END_OF_DOCUMENT; e = r.readBsonType()) {
                    int start = r.getBsonInput().getPosition();
                    r.skipValue();
                    batchSize += r.getBsonInput().getPosition() - start;
                    batchDocs++;
                }
                r.readEndArray();
            } else {
                r.skipValue();
            }
        }
        r.readEndDocument();
        return new Summary(firstKey, firstString, fields, id, query, filter, cursor, dollarComment, comment,
                dollarMaxTime, maxTime, collection, db, ok, batchDocs, batchSize);
    }

    private static boolean isStringKey(String name) {
        return switch (name) {
            case "$comment", "comment", "collection", "$db" -> true;
            default -> false;
        };
    }

    private static boolean isDocumentKey(String name) {
        return switch (name) {
            case "$query", "filter", "cursor" -> true;
            default -> false;
        };
    }
}
