package dev.legate.filters.network.mongoproxy;

import static java.util.Objects.requireNonNull;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The filter's stats under {@code mongo.<stat_prefix>.}, Envoy's names ({@code ALL_MONGO_PROXY_STATS} in
 * {@code proxy.h}, {@code mongo_stats.cc}), plus three of Legate's own for what Envoy does not decode:
 * {@code op_msg} (OP_MSG requests), {@code op_msg_reply} (OP_MSG replies) and {@code op_compressed}.
 *
 * <p>Per command: {@code cmd.<command>.total} (counter), {@code cmd.<command>.reply_num_docs},
 * {@code reply_size} (bytes), {@code reply_time_ms} (histograms); a command not in {@code commands} counts as
 * {@code cmd.unknown_command.*}, as in Envoy. Per collection: {@code collection.<name>.query.total},
 * {@code scatter_get}, {@code multi_get} (counters) and the three reply histograms; the same under
 * {@code collection.<name>.callsite.<callsite>.query.}. These are looked up once per name and cached.
 *
 * <p>Created once per listener config; thread-safe (meters are, the caches are concurrent maps).
 */
final class MongoProxyStats {

    /** Envoy's bucket for a command not in {@code commands}. */
    static final String UNKNOWN_COMMAND = "unknown_command";

    final Counter cxDestroyLocalWithActiveRq;
    final Counter cxDestroyRemoteWithActiveRq;
    final Counter cxDrainClose;
    final Counter decodingError;
    final Counter delaysInjected;
    final Counter opCommand;
    final Counter opCommandReply;
    final Counter opGetMore;
    final Counter opInsert;
    final Counter opKillCursors;
    final Counter opQuery;
    final Counter opQueryAwaitData;
    final Counter opQueryExhaust;
    final Counter opQueryMultiGet;
    final Counter opQueryNoCursorTimeout;
    final Counter opQueryNoMaxTime;
    final Counter opQueryScatterGet;
    final Counter opQueryTailableCursor;
    final Counter opReply;
    final Counter opReplyCursorNotFound;
    final Counter opReplyQueryFailure;
    final Counter opReplyValidCursor;
    final Gauge opQueryActive;
    /** Legate: {@code OP_MSG} requests (from the client). */
    final Counter opMsg;
    /** Legate: {@code OP_MSG} replies (from the server). */
    final Counter opMsgReply;
    /** Legate: {@code OP_COMPRESSED} messages, both directions. */
    final Counter opCompressed;

    private final Stats scope;
    private final Set<String> commands;
    private final ConcurrentMap<String, CommandStats> commandStats = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, QueryStats> queryStats = new ConcurrentHashMap<>();

    /** The reply histograms of a command, a collection or a call site. */
    record ReplyStats(Histogram numDocs, Histogram size, Histogram timeMs) {
        static ReplyStats in(Stats s) {
            return new ReplyStats(s.histogram("reply_num_docs"), s.histogram("reply_size"), s.histogram("reply_time_ms"));
        }

        void record(long docs, long bytes, long millis) {
            numDocs.record(docs);
            size.record(bytes);
            timeMs.record(millis);
        }
    }

    /** {@code cmd.<command>.}. */
    record CommandStats(Counter total, ReplyStats reply) {
    }

    /** {@code collection.<name>.query.} or {@code collection.<name>.callsite.<callsite>.query.}. */
    record QueryStats(Counter total, Counter scatterGet, Counter multiGet, ReplyStats reply) {
    }

    /**
     * @param root       the root scope
     * @param statPrefix {@code stat_prefix}
     * @param commands   the commands that get their own {@code cmd.<command>.} stats
     */
    MongoProxyStats(Stats root, String statPrefix, Set<String> commands) {
        this.scope = root.scope("mongo." + statPrefix);
        this.commands = Set.copyOf(requireNonNull(commands, "commands"));
        Stats s = scope;
        cxDestroyLocalWithActiveRq = s.counter("cx_destroy_local_with_active_rq");
        cxDestroyRemoteWithActiveRq = s.counter("cx_destroy_remote_with_active_rq");
        cxDrainClose = s.counter("cx_drain_close");
        decodingError = s.counter("decoding_error");
        delaysInjected = s.counter("delays_injected");
        opCommand = s.counter("op_command");
        opCommandReply = s.counter("op_command_reply");
        opGetMore = s.counter("op_get_more");
        opInsert = s.counter("op_insert");
        opKillCursors = s.counter("op_kill_cursors");
        opQuery = s.counter("op_query");
        opQueryAwaitData = s.counter("op_query_await_data");
        opQueryExhaust = s.counter("op_query_exhaust");
        opQueryMultiGet = s.counter("op_query_multi_get");
        opQueryNoCursorTimeout = s.counter("op_query_no_cursor_timeout");
        opQueryNoMaxTime = s.counter("op_query_no_max_time");
        opQueryScatterGet = s.counter("op_query_scatter_get");
        opQueryTailableCursor = s.counter("op_query_tailable_cursor");
        opReply = s.counter("op_reply");
        opReplyCursorNotFound = s.counter("op_reply_cursor_not_found");
        opReplyQueryFailure = s.counter("op_reply_query_failure");
        opReplyValidCursor = s.counter("op_reply_valid_cursor");
        opQueryActive = s.gauge("op_query_active");
        opMsg = s.counter("op_msg");
        opMsgReply = s.counter("op_msg_reply");
        opCompressed = s.counter("op_compressed");
    }

    /** {@code cmd.<command>.}, or {@code cmd.unknown_command.} when {@code command} is not in {@code commands}. */
    CommandStats command(String command) {
        String name = commands.contains(command) ? command : UNKNOWN_COMMAND;
        return commandStats.computeIfAbsent(name, n -> {
            Stats s = scope.scope("cmd." + n);
            return new CommandStats(s.counter("total"), ReplyStats.in(s));
        });
    }

    /** {@code collection.<collection>.query.}. */
    QueryStats collection(String collection) {
        return queryStats.computeIfAbsent("collection." + collection + ".query", this::queryStats);
    }

    /** {@code collection.<collection>.callsite.<callsite>.query.}. */
    QueryStats callsite(String collection, String callsite) {
        return queryStats.computeIfAbsent("collection." + collection + ".callsite." + callsite + ".query",
                this::queryStats);
    }

    private QueryStats queryStats(String name) {
        Stats s = scope.scope(name);
        return new QueryStats(s.counter("total"), s.counter("scatter_get"), s.counter("multi_get"), ReplyStats.in(s));
    }
}
