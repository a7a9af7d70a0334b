package dev.legate.filters.network.redisproxy;

import dev.legate.api.upstream.LoadBalancerContext;
import java.nio.charset.StandardCharsets;

/**
 * The load-balancer hash of a Redis key (Envoy's {@code ConnPool::InstanceImpl::LbContextImpl},
 * {@code conn_pool_impl.cc}): {@code MurmurHash::murmurHash2} (64-bit MurmurHash2 as libstdc++'s
 * {@code std::hash}, seed {@code 0xc70f6907}) of the key, or of its hash tag with
 * {@code enable_hashtagging}. A cluster with {@code lb_policy: RING_HASH} or {@code MAGLEV} places the key
 * by it; other policies ignore it.
 */
final class RedisKeyHash implements LoadBalancerContext {

    private static final long SEED = 0xc70f6907L;
    private static final long MUL = 0xc6a4a7935bd1e995L;

    private final long hash;

    /** @param key the key as ISO-8859-1 text (one char per byte) */
    RedisKeyHash(String key, boolean hashtagging) {
        this.hash = murmurHash2(hashtag(key, hashtagging).getBytes(StandardCharsets.ISO_8859_1));
    }

    // LoadBalancerContext

    @Override
    public Long hashKey() {
        return hash;
    }

    /**
     * The part of {@code key} that is hashed: with hashtagging, the text between the first {@code {} and the
     * next {@code }} when it is not empty (Redis Cluster's rule); otherwise the whole key.
     */
    static String hashtag(String key, boolean enabled) {
        if (!enabled) {
            return key;
        }
        int start = key.indexOf('{');
        if (start < 0) {
            return key;
        }
        int end = key.indexOf('}', start);
        if (end < 0 || end == start + 1) {
            return key;
        }
        return key.substring(start + 1, end);
    }

    static long murmurHash2(byte[] buf) {
        int len = buf.length;
        int aligned = len & ~7;
        long h = SEED ^ (len * MUL);
        for (int p = 0; p < aligned; p += 8) {
            h ^= shiftMix(littleEndian(buf, p, 8) * MUL) * MUL;
            h *= MUL;
        }
        if ((len & 7) != 0) {
            h ^= littleEndian(buf, aligned, len & 7);
            h *= MUL;
        }
        h = shiftMix(h) * MUL;
        return shiftMix(h);
    }

    private static long shiftMix(long v) {
        return v ^ (v >>> 47);
    }

    private static long littleEndian(byte[] b, int off, int n) {
        long r = 0;
        for (int i = n - 1; i >= 0; i--) {
            r = (r << 8) | (b[off + i] & 0xFFL);
        }
        return r;
    }
}
