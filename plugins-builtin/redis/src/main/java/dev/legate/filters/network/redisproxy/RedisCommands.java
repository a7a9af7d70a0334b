package dev.legate.filters.network.redisproxy;

import java.util.Set;

/**
 * The commands the proxy knows, by how they are routed: Envoy's {@code SupportedCommands}
 * ({@code source/extensions/filters/network/common/redis/supported_commands.h}). Names are lower case.
 */
final class RedisCommands {

    private RedisCommands() {
    }

    /** Commands whose first argument is the key; sent whole to the key's host. */
    static final Set<String> SIMPLE = Set.of(
            "append", "bf.add", "bf.card", "bf.exists", "bf.info", "bf.insert", "bf.loadchunk", "bf.madd",
            "bf.mexists", "bf.reserve", "bf.scandump", "bitcount", "bitfield", "bitpos", "decr", "decrby", "dump",
            "expire", "expireat", "geoadd", "geodist", "geohash", "geopos", "georadius_ro", "georadiusbymember_ro",
            "get", "getbit", "getdel", "getrange", "getset", "hdel", "hexists", "hget", "hgetall", "hincrby",
            "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hscan", "hset", "hsetnx", "hstrlen", "hvals",
            "incr", "incrby", "incrbyfloat", "lindex", "linsert", "llen", "lmove", "lpop", "lpush", "lpushx",
            "lrange", "lrem", "lset", "ltrim", "persist", "pexpire", "pexpireat", "pfadd", "pfcount", "psetex",
            "pttl", "publish", "restore", "rpop", "rpush", "rpushx", "sadd", "scard", "set", "setbit", "setex",
            "setnx", "setrange", "sismember", "smembers", "spop", "srandmember", "srem", "sscan", "strlen", "ttl",
            "type", "watch", "xack", "xadd", "xautoclaim", "xclaim", "xdel", "xlen", "xpending", "xrange",
            "xrevrange", "xtrim", "zadd", "zcard", "zcount", "zincrby", "zlexcount", "zpopmin", "zpopmax",
            "zrange", "zrangebylex", "zrangebyscore", "zrank", "zrem", "zremrangebylex", "zremrangebyrank",
            "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore", "zrevrank", "zscan", "zscore");

    /** Commands hashed on their fourth argument (the first key): {@code EVAL script numkeys key ...}. */
    static final Set<String> EVAL = Set.of("eval", "evalsha", "eval_ro", "evalsha_ro");

    /** Commands split per key whose integer replies are summed. */
    static final Set<String> SUM_RESULT = Set.of("del", "exists", "touch", "unlink");

    /** Transaction commands: a transaction runs on its own upstream connection to the first key's host. */
    static final Set<String> TRANSACTION = Set.of("multi", "exec", "discard");

    static final String MGET = "mget";
    static final String MSET = "mset";

    /** Commands that change data; every other command is a read (for {@code read_command_policy}). */
    static final Set<String> WRITE = Set.of(
            "append", "bitfield", "decr", "decrby", "del", "discard", "exec", "expire", "expireat", "eval",
            "evalsha", "geoadd", "getdel", "hdel", "hincrby", "hincrbyfloat", "hmset", "hset", "hsetnx", "incr",
            "incrby", "incrbyfloat", "linsert", "lmove", "lpop", "lpush", "lpushx", "lrem", "lset", "ltrim", "mset",
            "multi", "persist", "pexpire", "pexpireat", "pfadd", "psetex", "restore", "rpop", "rpush", "rpushx",
            "sadd", "set", "setbit", "setex", "setnx", "setrange", "spop", "srem", "zadd", "zincrby", "touch",
            "zpopmin", "zpopmax", "zrem", "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "unlink");

    static boolean isRead(String command) {
        return !WRITE.contains(command);
    }

    /** ASCII lower case of {@code s} (Redis command names and {@code case_insensitive} prefixes are ASCII). */
    static String lower(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] a = s.toCharArray();
                for (int j = i; j < a.length; j++) {
                    if (a[j] >= 'A' && a[j] <= 'Z') {
                        a[j] = (char) (a[j] + 32);
                    }
                }
                return new String(a);
            }
        }
        return s;
    }
}
