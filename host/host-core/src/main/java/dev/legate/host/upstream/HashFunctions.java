package dev.legate.host.upstream;

import dev.legate.api.hash.MurmurHash;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The hash functions of Envoy's consistent-hash load balancers ({@code source/common/common/hash.h}):
 * {@code HashUtil::xxHash64} (XXH64, from lz4-java's pure-Java implementation) and
 * {@code MurmurHash::murmurHash2} (plugin-api's {@link MurmurHash}, shared with plugins). Stateless and thread-safe.
 */
final class HashFunctions {

    private static final XXHash64 XX = XXHashFactory.safeInstance().hash64();

    private HashFunctions() {
    }

    /** XXH64 of the UTF-8 bytes of {@code s} with {@code seed}. */
    static long xxHash64(String s, long seed) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return XX.hash(b, 0, b.length, seed);
    }

    /** XXH64 of {@code b[0..len)} with {@code seed}. */
    static long xxHash64(byte[] b, int len, long seed) {
        return XX.hash(b, 0, len, seed);
    }

    /** {@link MurmurHash#murmurHash2(byte[])} (Envoy's, seed {@code STD_HASH_SEED}) of the UTF-8 bytes of {@code s}. */
    static long murmurHash2(String s) {
        return MurmurHash.murmurHash2(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@link MurmurHash#murmurHash2(byte[])} of {@code b[0..len)}. */
    static long murmurHash2(byte[] b, int len) {
        return MurmurHash.murmurHash2(len == b.length ? b : Arrays.copyOf(b, len));
    }
}
