package dev.legate.filters.network.mongoproxy;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.legate.api.Dispatcher;
import dev.legate.api.StateKey;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's mongo sniffer (Envoy's {@code ProxyFilter}, {@code proxy.cc}): decodes the client's bytes
 * ({@link #onData}) and the server's ({@link #onWrite}) into messages, counts them, logs them and matches
 * replies to requests by {@code responseTo}. It never changes the bytes: every buffer passes on untouched (its
 * indexes unmoved, not retained, not released), so it sits before {@code envoy.filters.network.tcp_proxy}.
 *
 * <p>Requests: {@code OP_QUERY} ({@code op_query} and its flag counters, then per command or per collection as
 * in Envoy), {@code OP_GET_MORE}, {@code OP_INSERT}, {@code OP_KILL_CURSORS}, {@code OP_COMMAND}, and
 * {@code OP_MSG} ({@code op_msg}; its command counted like an {@code OP_QUERY} command: {@code find} per
 * collection, the others per command). Replies: {@code OP_REPLY}, {@code OP_COMMANDREPLY} and {@code OP_MSG}
 * ({@code op_msg_reply}); an {@code OP_REPLY} or {@code OP_MSG} reply to an {@code OP_QUERY} or {@code OP_MSG}
 * request records {@code reply_num_docs}, {@code reply_size} and {@code reply_time_ms} ({@code OP_COMMAND} is
 * not matched, as in Envoy). {@code OP_COMPRESSED} is counted ({@code op_compressed}).
 *
 * <p>A message that cannot be decoded counts {@code decoding_error} and ends sniffing for the connection; the
 * bytes keep flowing. With {@code delay}, a request may start a delay timer ({@code delays_injected}); while it
 * runs {@link #onData} returns {@code STOP_ITERATION} (the host holds the bytes) and its end resumes the chain
 * with {@code continueReading()}; one delay at a time, as in Envoy.
 *
 * <p>Runs on the connection's event loop only.
 */
public final class MongoProxyFilter implements NetworkFilter {

    /**
     * With {@code emit_dynamic_metadata}, what Envoy puts in the connection's dynamic metadata under
     * {@code envoy.filters.network.mongo_proxy}: {@code <db>.<collection>} → list of operations
     * ({@code insert}, {@code query}, and for {@code OP_MSG} also {@code update}, {@code delete}) of the
     * messages decoded by the latest read or write. Legate has no dynamic metadata: it is this filter state.
     */
    public static final StateKey<Struct> DYNAMIC_METADATA =
            StateKey.of("envoy.filters.network.mongo_proxy", Struct.class);

    private static final Logger log = LoggerFactory.getLogger(MongoProxyFilter.class);

    private final MongoProxySettings settings;
    private final MongoProxyStats stats;
    private final NetworkFilterCallbacks callbacks;
    private final RandomGenerator random;
    private final MongoDecoder requests;
    private final MongoDecoder replies;
    /** Requests awaiting their reply, oldest first (Envoy's {@code active_query_list_}). */
    private final List<ActiveQuery> activeQueries = new ArrayList<>(2);
    private boolean sniffing = true;
    private Dispatcher.Timer delayTimer;
    private Struct.Builder metadata;

    private record ActiveQuery(QueryInfo info, long startMillis) {
    }

    /**
     * @param random draws the {@code delay.percentage} samples; used on this connection's loop only
     */
    MongoProxyFilter(MongoProxySettings settings, NetworkFilterCallbacks callbacks, RandomGenerator random) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
        this.random = requireNonNull(random, "random");
        this.stats = settings.stats();
        boolean render = settings.accessLog() != null;
        this.requests = new MongoDecoder(render, m -> onMessage(m, true));
        this.replies = new MongoDecoder(render, m -> onMessage(m, false));
    }

    // NetworkFilter

    /** Decodes the client's bytes; {@code STOP_ITERATION} while a delay runs. {@code data} is not touched. */
    @Override
    public FilterStatus onData(ByteBuf data, boolean endStream) {
        decode(requests, data);
        return delayTimer != null ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
    }

    /** Decodes the server's bytes. {@code data} is not touched. */
    @Override
    public FilterStatus onWrite(ByteBuf data, boolean endStream) {
        decode(replies, data);
        return FilterStatus.CONTINUE;
    }

    /**
     * Cancels a running delay, counts {@code cx_destroy_remote_with_active_rq} / {@code ..._local_...} when
     * requests still await replies, and releases the decoders' kept bytes.
     */
    @Override
    public void onConnectionEvent(ConnectionEvent event) {
        if (delayTimer != null) {
            delayTimer.cancel();
            delayTimer = null;
        }
        if (!activeQueries.isEmpty()) {
            (event == ConnectionEvent.REMOTE_CLOSE ? stats.cxDestroyRemoteWithActiveRq : stats.cxDestroyLocalWithActiveRq)
                    .inc();
            stats.opQueryActive.add(-activeQueries.size());
            activeQueries.clear();
        }
        requests.release();
        replies.release();
    }

    // Decoding

    private void decode(MongoDecoder decoder, ByteBuf data) {
        if (!sniffing || !data.isReadable()) {
            return;
        }
        if (settings.emitDynamicMetadata() && metadata != null && metadata.getFieldsCount() > 0) {
            metadata.clear();
            callbacks.connection().streamInfo().setState(DYNAMIC_METADATA, Struct.getDefaultInstance());
        }
        try {
            decoder.onData(data);
        } catch (MongoDecoder.DecodingException e) {
            log.info("{} mongo decoding error: {}", callbacks.connection(), e.getMessage());
            stats.decodingError.inc();
            sniffing = false;
            requests.release();
            replies.release();
        }
    }

    private void onMessage(MongoMessage message, boolean fromClient) {
        switch (message) {
            case MongoMessage.Query q -> onQuery(q);
            case MongoMessage.Reply r -> onReply(r);
            case MongoMessage.GetMore g -> {
                tryInjectDelay();
                stats.opGetMore.inc();
                logMessage(g, true);
            }
            case MongoMessage.Insert i -> {
                tryInjectDelay();
                setDynamicMetadata("insert", i.fullCollectionName());
                stats.opInsert.inc();
                logMessage(i, true);
            }
            case MongoMessage.KillCursors k -> {
                tryInjectDelay();
                stats.opKillCursors.inc();
                logMessage(k, true);
            }
            case MongoMessage.Command c -> {
                tryInjectDelay();
                stats.opCommand.inc();
                logMessage(c, true);
            }
            case MongoMessage.CommandReply c -> {
                stats.opCommandReply.inc();
                logMessage(c, true);
            }
            case MongoMessage.Msg m -> {
                if (fromClient) {
                    onMsgRequest(m);
                } else {
                    onMsgReply(m);
                }
            }
            case MongoMessage.Compressed c -> {
                stats.opCompressed.inc();
                logMessage(c, true);
            }
        }
    }

    /** Envoy's {@code decodeQuery}. */
    private void onQuery(MongoMessage.Query q) {
        tryInjectDelay();
        setDynamicMetadata("query", q.fullCollectionName());
        stats.opQuery.inc();
        logMessage(q, true);
        int flags = q.flags();
        if ((flags & MongoMessage.Query.TAILABLE_CURSOR) != 0) {
            stats.opQueryTailableCursor.inc();
        }
        if ((flags & MongoMessage.Query.NO_CURSOR_TIMEOUT) != 0) {
            stats.opQueryNoCursorTimeout.inc();
        }
        if ((flags & MongoMessage.Query.AWAIT_DATA) != 0) {
            stats.opQueryAwaitData.inc();
        }
        if ((flags & MongoMessage.Query.EXHAUST) != 0) {
            stats.opQueryExhaust.inc();
        }
        chargeRequest(q.info(), true);
    }

    /** An {@code OP_MSG} from the client: a command, counted as Envoy counts an {@code OP_QUERY} command. */
    private void onMsgRequest(MongoMessage.Msg m) {
        tryInjectDelay();
        stats.opMsg.inc();
        logMessage(m, true);
        QueryInfo info = QueryInfo.fromMsg(m.requestId(), m.body());
        String collection = m.body().firstString();
        if (collection != null) {
            String resource = (m.body().db() == null ? "" : m.body().db()) + "." + collection;
            switch (m.command()) {
                case "insert" -> setDynamicMetadata("insert", resource);
                case "find" -> setDynamicMetadata("query", resource);
                case "update" -> setDynamicMetadata("update", resource);
                case "delete" -> setDynamicMetadata("delete", resource);
                default -> { }
            }
        }
        chargeRequest(info, (m.flagBits() & MongoMessage.Msg.MORE_TO_COME) == 0);
    }

    private void onMsgReply(MongoMessage.Msg m) {
        stats.opMsgReply.inc();
        logMessage(m, false);
        chargeReply(m.responseTo(), m.replyDocuments(), m.replySize());
    }

    /** Envoy's {@code decodeReply}. */
    private void onReply(MongoMessage.Reply r) {
        stats.opReply.inc();
        logMessage(r, false);
        if (r.cursorId() != 0) {
            stats.opReplyValidCursor.inc();
        }
        if ((r.flags() & MongoMessage.Reply.CURSOR_NOT_FOUND) != 0) {
            stats.opReplyCursorNotFound.inc();
        }
        if ((r.flags() & MongoMessage.Reply.QUERY_FAILURE) != 0) {
            stats.opReplyQueryFailure.inc();
        }
        chargeReply(r.responseTo(), r.documents(), r.documentsSize());
    }

    /** The request's counters ({@code cmd.*} or {@code collection.*} and the global query kinds). */
    private void chargeRequest(QueryInfo info, boolean expectsReply) {
        if (info.isCommand()) {
            stats.command(info.command()).total().inc();
        } else {
            chargeQuery(stats.collection(info.collection()), info.type());
            if (!info.callsite().isEmpty()) {
                chargeQuery(stats.callsite(info.collection(), info.callsite()), info.type());
            }
            if (info.maxTimeMs() < 1) {
                stats.opQueryNoMaxTime.inc();
            }
            if (info.type() == QueryInfo.Type.SCATTER_GET) {
                stats.opQueryScatterGet.inc();
            } else if (info.type() == QueryInfo.Type.MULTI_GET) {
                stats.opQueryMultiGet.inc();
            }
        }
        if (expectsReply) {
            activeQueries.add(new ActiveQuery(info, dispatcher().currentTimeMillis()));
            stats.opQueryActive.inc();
        }
    }

    private static void chargeQuery(MongoProxyStats.QueryStats s, QueryInfo.Type type) {
        s.total().inc();
        if (type == QueryInfo.Type.SCATTER_GET) {
            s.scatterGet().inc();
        } else if (type == QueryInfo.Type.MULTI_GET) {
            s.multiGet().inc();
        }
    }

    /** Envoy's {@code chargeReplyStats} for the oldest request whose {@code requestID} is {@code responseTo}. */
    private void chargeReply(int responseTo, long docs, long bytes) {
        for (Iterator<ActiveQuery> it = activeQueries.iterator(); it.hasNext(); ) {
            ActiveQuery q = it.next();
            if (q.info().requestId() != responseTo) {
                continue;
            }
            it.remove();
            stats.opQueryActive.dec();
            long millis = Math.max(0, dispatcher().currentTimeMillis() - q.startMillis());
            QueryInfo info = q.info();
            if (info.isCommand()) {
                stats.command(info.command()).reply().record(docs, bytes, millis);
            } else {
                stats.collection(info.collection()).reply().record(docs, bytes, millis);
                if (!info.callsite().isEmpty()) {
                    stats.callsite(info.collection(), info.callsite()).reply().record(docs, bytes, millis);
                }
            }
            return;
        }
    }

    // Delay (Envoy's tryInjectDelay / delayInjectionTimerCallback)

    private void tryInjectDelay() {
        if (delayTimer != null || !settings.sampleDelay(random)) {
            return;
        }
        delayTimer = dispatcher().schedule(this::onDelayEnd, settings.delayMillis(), TimeUnit.MILLISECONDS);
        stats.delaysInjected.inc();
    }

    private void onDelayEnd() {
        delayTimer = null;
        callbacks.continueReading();
    }

    // Access log and dynamic metadata

    private void logMessage(MongoMessage message, boolean full) {
        MongoAccessLog accessLog = settings.accessLog();
        if (accessLog != null) {
            accessLog.log(dispatcher().currentTimeMillis(), message.toLogJson(full),
                    callbacks.connection().streamInfo().upstreamHost());
        }
    }

    private void setDynamicMetadata(String operation, String resource) {
        if (!settings.emitDynamicMetadata()) {
            return;
        }
        if (metadata == null) {
            metadata = Struct.newBuilder();
        }
        Value existing = metadata.getFieldsOrDefault(resource, null);
        ListValue.Builder operations = existing == null ? ListValue.newBuilder() : existing.getListValue().toBuilder();
        operations.addValues(Value.newBuilder().setStringValue(operation));
        metadata.putFields(resource, Value.newBuilder().setListValue(operations).build());
        callbacks.connection().streamInfo().setState(DYNAMIC_METADATA, metadata.build());
    }

    private Dispatcher dispatcher() {
        return callbacks.connection().dispatcher();
    }
}
