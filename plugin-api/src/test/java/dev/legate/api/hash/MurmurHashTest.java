package dev.legate.api.hash;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** MurmurHash2 gives libstdc++'s std::hash&lt;std::string&gt; values (printed by g++ on x86-64). */
class MurmurHashTest {

    private static long hash(String s) {
        return MurmurHash.murmurHash2(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void matchesStdHash() {
        assertThat(hash("")).isEqualTo(0x553e93901e462a6eL);
        assertThat(hash("foo")).isEqualTo(0x85a8e535edf11e5aL);
        assertThat(hash("hello world")).isEqualTo(0x4d6686d362067ff9L);
        assertThat(hash("0123456789abcdef_x")).isEqualTo(0x2548b2abeab9ea80L);
    }

    @Test
    void theSeedIsUsed() {
        byte[] foo = "foo".getBytes(StandardCharsets.UTF_8);
        assertThat(MurmurHash.murmurHash2(foo, MurmurHash.STD_HASH_SEED)).isEqualTo(0x85a8e535edf11e5aL);
        assertThat(MurmurHash.murmurHash2(foo, 0)).isNotEqualTo(0x85a8e535edf11e5aL);
    }
}
