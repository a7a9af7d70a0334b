package dev.legate.host.upstream;

import java.nio.charset.StandardCharsets;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The hash functions of Envoy's consistent-hash load balancers ({@code source/common/common/hash.h}):
 * {@code HashUtil::xxHash64} (XXH64, from lz4-java's pure-Java implementation) and
 * {@code MurmurHash::murmurHash2} (the 64-bit MurmurHash2 of libstdc++'s {@code std::hash}, seed
 * {@code 0xc70f6907}). Stateless and thread-safe.
 */
final class HashFunctions {

    /** Envoy's {@code MurmurHash::STD_HASH_SEED}. */
    static final long STD_HASH_SEED = 0xc70f6907L;

    private static final XXHash64 XX = XXHashFactory.safeInstance().hash64();
    private static final long MUL = 0xc6a4a7935bd1e995L;

    private HashFunctions() {
    }

    /** XXH64 of the UTF-8 bytes of {@code s} with {@code seed}. */
    static long xxHash64(String s, long seed) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return XX.hash(b, 0, b.length, seed);
    }

    /** Envoy's {@code MurmurHash::murmurHash2(key, STD_HASH_SEED)} of the UTF-8 bytes of {@code s}. */
    static long murmurHash2(String s) {
        byte[] buf = s.getBytes(StandardCharsets.UTF_8);
        int len = buf.length;
        int aligned = len & ~7;
        long hash = STD_HASH_SEED ^ (len * MUL);
        for (int p = 0; p < aligned; p += 8) {
            long data = shiftMix(littleEndian(buf, p, 8) * MUL) * MUL;
            hash ^= data;
            hash *= MUL;
        }
        if ((len & 7) != 0) {
            hash ^= littleEndian(buf, aligned, len & 7);
            hash *= MUL;
        }
        hash = shiftMix(hash) * MUL;
        return shiftMix(hash);
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
