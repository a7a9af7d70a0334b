package dev.legate.api.hash;

import static java.util.Objects.requireNonNull;

/**
 * Envoy's {@code MurmurHash::murmurHash2} ({@code source/common/common/hash.h}/{@code hash.cc}): the 64-bit
 * MurmurHash2 variant of libstdc++'s {@code std::hash<std::string>} ({@code _Hash_bytes} on 64-bit targets), used
 * by Envoy's ring hash load balancer ({@code hash_function: MURMUR_HASH_2}) and the redis proxy's key hashing.
 * Values are Envoy's {@code uint64_t} in a {@code long} (compare unsigned). Stateless and thread-safe.
 */
public final class MurmurHash {

    /** Envoy's {@code MurmurHash::STD_HASH_SEED}, the seed libstdc++'s {@code std::hash} uses. */
    public static final long STD_HASH_SEED = 0xc70f6907L;

    private static final long MUL = 0xc6a4a7935bd1e995L;

    private MurmurHash() {
    }

    /** {@code murmurHash2(key, STD_HASH_SEED)}: what {@code std::hash<std::string>} gives for these bytes. */
    public static long murmurHash2(byte[] key) {
        return murmurHash2(key, STD_HASH_SEED);
    }

    /**
     * The 64-bit MurmurHash2 of {@code key} with {@code seed}, as Envoy's {@code MurmurHash::murmurHash2}: 8-byte
     * little-endian words, then the 1–7 byte tail, then two shift-mix rounds.
     */
    public static long murmurHash2(byte[] key, long seed) {
        requireNonNull(key, "key");
        int len = key.length;
        int aligned = len & ~7;
        long hash = seed ^ (len * MUL);
        for (int p = 0; p < aligned; p += 8) {
            hash ^= shiftMix(littleEndian(key, p, 8) * MUL) * MUL;
            hash *= MUL;
        }
        if ((len & 7) != 0) {
            hash ^= littleEndian(key, aligned, len & 7);
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
