package dev.legate.filters.network.mongoproxy;

import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * What the stats need of a request that expects a reply (Envoy's {@code QueryMessageInfo}, {@code utility.cc}):
 * either a command ({@link #command()} non-empty: {@code cmd.<command>.*}) or a query on a collection
 * ({@code collection.<collection>.query.*}, with a call site and a kind).
 *
 * <p>From {@code OP_QUERY} ({@link #fromQuery}), as Envoy: a query on {@code <db>.$cmd} is a command named by
 * the first key of the query (or of its {@code $query}); the {@code find} command counts as a query on its
 * collection; other queries take the collection after the first dot, the call site from {@code $comment}, the
 * time limit from {@code $maxTimeMS} / {@code maxTimeMS} and the kind from {@code _id}. From {@code OP_MSG}
 * ({@link #fromMsg}) the same rules apply to the body: {@code find} is a query (its {@code filter},
 * {@code comment} and {@code maxTimeMS} read), every other command a command.
 *
 * @param requestId  the request's {@code requestID}, matched by a reply's {@code responseTo}
 * @param command    the command name, aliases normalized ({@code ismaster} → {@code isMaster}), or {@code ""}
 * @param collection the collection of a query, or {@code ""}
 * @param callsite   {@code callingFunction} of a JSON comment, or {@code ""}
 * @param maxTimeMs  the query's time limit, 0 when none
 * @param type       the query's kind
 */
record QueryInfo(int requestId, String command, String collection, String callsite, long maxTimeMs, Type type) {

    /** Envoy's {@code QueryMessageInfo::QueryType}. */
    enum Type {
        /** {@code _id} is a scalar. */
        PRIMARY_KEY,
        /** No {@code _id}. */
        SCATTER_GET,
        /** {@code _id} is a document or an array. */
        MULTI_GET
    }

    /**
     * Envoy's {@code QueryMessageInfo(const QueryMessage&)}.
     *
     * @throws MongoDecoder.DecodingException as Envoy: a collection name without a dot, an empty command
     */
    static QueryInfo fromQuery(int requestId, String fullCollectionName, BsonScan.Summary query) {
        if (fullCollectionName.contains("$cmd")) {
            BsonScan.Summary doc = query.query() != null ? query.query() : query;
            if (doc.fields() == 0) {
                throw new MongoDecoder.DecodingException("invalid query command");
            }
            return command(requestId, doc, doc.comment(), doc.maxTime());
        }
        int dot = fullCollectionName.indexOf('.');
        if (dot < 0) {
            throw new MongoDecoder.DecodingException("invalid full collection name");
        }
        Type type = type(query);
        if (type == Type.SCATTER_GET && query.query() != null) {
            type = type(query.query());
        }
        return new QueryInfo(requestId, "", fullCollectionName.substring(dot + 1),
                callingFunction(query.dollarComment()), query.maxTimeMs(), type);
    }

    /** The same rules for an {@code OP_MSG} request's body. */
    static QueryInfo fromMsg(int requestId, BsonScan.Summary body) {
        return command(requestId, body, body.comment(), body.maxTime());
    }

    private static QueryInfo command(int requestId, BsonScan.Summary doc, String comment, Long maxTime) {
        String command = doc.firstKey();
        if (command.equals("find") && doc.firstString() != null) {
            // Envoy: "special case the 3.2 'find' command since it is a query"
            Type type = doc.filter() == null ? Type.SCATTER_GET : type(doc.filter());
            return new QueryInfo(requestId, "", doc.firstString(), callingFunction(comment),
                    maxTime == null ? 0 : maxTime, type);
        }
        return new QueryInfo(requestId, alias(command), "", "", 0, Type.SCATTER_GET);
    }

    /** Whether this is a command (otherwise a query on {@link #collection()}). */
    boolean isCommand() {
        return !command.isEmpty();
    }

    private static String alias(String command) {
        return switch (command) {
            case "collstats" -> "collStats";
            case "dbstats" -> "dbStats";
            case "findandmodify" -> "findAndModify";
            case "getlasterror" -> "getLastError";
            case "ismaster" -> "isMaster";
            default -> command;
        };
    }

    private static Type type(BsonScan.Summary doc) {
        return switch (doc.id()) {
            case NONE -> Type.SCATTER_GET;
            case SCALAR -> Type.PRIMARY_KEY;
            case NON_SCALAR -> Type.MULTI_GET;
        };
    }

    /** Envoy's {@code parseCallingFunctionJson}: {@code {"callingFunction": "..."}}, else {@code ""}. */
    static String callingFunction(String comment) {
        if (comment == null || comment.isEmpty() || comment.charAt(0) != '{') {
            return "";
        }
        try {
            BsonValue v = BsonDocument.parse(comment).get("callingFunction");
            return v != null && v.isString() ? v.asString().getValue() : "";
        } catch (RuntimeException e) {
            return ""; // not JSON: no call site, as in Envoy
        }
    }
}
