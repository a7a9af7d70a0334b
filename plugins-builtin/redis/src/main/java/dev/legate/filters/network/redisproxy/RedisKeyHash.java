package dev.legate.filters.network.redisproxy;

import dev.legate.api.hash.MurmurHash;
import dev.legate.api.upstream.LoadBalancerContext;
import java.nio.charset.StandardCharsets;

/**
 * The load-balancer hash of a Redis key (Envoy's {@code ConnPool::InstanceImpl::LbContextImpl},
 * {@code conn_pool_impl.cc}): {@code MurmurHash::murmurHash2} ({@link MurmurHash}, libstdc++'s
 * {@code std::hash}) of the key, or of its hash tag with
 * {@code enable_hashtagging}. A cluster with {@code lb_policy: RING_HASH} or {@code MAGLEV} places the key
 * by it; other policies ignore it.
 */
final class RedisKeyHash implements LoadBalancerContext {

    private final long hash;

    /** @param key the key as ISO-8859-1 text (one char per byte) */
    RedisKeyHash(String key, boolean hashtagging) {
        this.hash = MurmurHash.murmurHash2(hashtag(key, hashtagging).getBytes(StandardCharsets.ISO_8859_1));
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
}
