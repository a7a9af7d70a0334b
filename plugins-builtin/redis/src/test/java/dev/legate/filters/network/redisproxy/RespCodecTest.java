package dev.legate.filters.network.redisproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.testkit.LeakCheck;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The RESP codec: framing of partial input, RESP2/RESP3 values, inline commands, errors, encoding. */
@ExtendWith(LeakCheck.class)
class RespCodecTest {

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static RespValue decode(String s, boolean inline) {
        ByteBuf b = buf(s);
        try {
            int end = RespDecoder.frameEnd(b, 0, inline);
            assertThat(end).as("frame end of " + s).isEqualTo(s.length());
            return RespDecoder.decode(b, 0, end, inline);
        } finally {
            b.release();
        }
    }

    private static String encode(RespValue v, boolean resp3) {
        ByteBuf out = Unpooled.buffer();
        try {
            RespEncoder.encode(v, out, resp3);
            return out.toString(StandardCharsets.ISO_8859_1);
        } finally {
            out.release();
        }
    }

    @Test
    void everyPrefixOfAFrameIsIncomplete() {
        String frame = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for (int i = 0; i < frame.length(); i++) {
            ByteBuf b = buf(frame.substring(0, i));
            assertThat(RespDecoder.frameEnd(b, 0, true)).as("prefix of " + i + " bytes").isEqualTo(-1);
            b.release();
        }
        ByteBuf two = buf(frame + frame.substring(0, 5));
        assertThat(RespDecoder.frameEnd(two, 0, true)).isEqualTo(frame.length());
        assertThat(RespDecoder.frameEnd(two, frame.length(), true)).isEqualTo(-1);
        two.release();
    }

    /**
     * A pipelined MSET of 2,000 keys fed one byte per read into a cumulation, as the filter does: the scanner
     * finds its end exactly once, at its last byte, and parses each value's type line at most once per read
     * that ends inside the value plus once more; a scanner that restarted at the frame's start on every read
     * would parse about (reads x values / 2), millions of lines.
     */
    @Test
    void aLargeFrameFedOneByteAtATimeIsScannedOnce() {
        StringBuilder sb = new StringBuilder("*4001\r\n$4\r\nMSET\r\n");
        for (int i = 0; i < 2000; i++) {
            String k = "key:" + i;
            String v = "value-" + i;
            sb.append('$').append(k.length()).append("\r\n").append(k).append("\r\n");
            sb.append('$').append(v.length()).append("\r\n").append(v).append("\r\n");
        }
        String frame = sb.toString();
        byte[] bytes = (frame + "*1\r\n$4\r\nPING\r\n").getBytes(StandardCharsets.ISO_8859_1);
        RespDecoder.Scanner scanner = new RespDecoder.Scanner();
        ByteBuf in = Unpooled.buffer(16);
        try {
            int found = -1;
            int reads = 0;
            for (int i = 0; i < frame.length(); i++) {
                in.writeByte(bytes[i]);
                reads++;
                int end = scanner.frameEnd(in, 0, true);
                if (end >= 0) {
                    assertThat(found).as("a second frame end").isEqualTo(-1);
                    found = end;
                }
            }
            assertThat(found).isEqualTo(frame.length());
            long values = 1 + 4001;
            assertThat(scanner.linesParsed()).isLessThanOrEqualTo(reads + values);
            RespValue v = RespDecoder.decode(in, 0, found, true);
            assertThat(v.elements()).hasSize(4001);
            assertThat(v.elements().get(4000).asString()).isEqualTo("value-1999");

            // The next frame arrives in two reads into a cumulation that moved: the scan resumes by offset.
            in.writeBytes(bytes, frame.length(), 7); // "*1\r\n$4\r"
            assertThat(scanner.frameEnd(in, found, true)).isEqualTo(-1);
            in.readerIndex(found);
            in.discardReadBytes();
            in.writeBytes(bytes, frame.length() + 7, bytes.length - frame.length() - 7);
            assertThat(scanner.frameEnd(in, 0, true)).isEqualTo(in.writerIndex());
        } finally {
            in.release();
        }
    }

    @Test
    void aScannerResumesAcrossEveryChunkingOfNestedResp3() {
        String frame = "|1\r\n+ttl\r\n:3\r\n%2\r\n$1\r\na\r\n*2\r\n~0\r\n*-1\r\n+b\r\n>1\r\n$3\r\nxyz\r\n";
        ByteBuf all = buf(frame);
        assertThat(RespDecoder.frameEnd(all, 0, false)).isEqualTo(frame.length());
        all.release();
        for (int chunk = 1; chunk <= frame.length(); chunk++) {
            RespDecoder.Scanner scanner = new RespDecoder.Scanner();
            ByteBuf in = Unpooled.buffer();
            try {
                int end = -1;
                for (int i = 0; i < frame.length(); i += chunk) {
                    assertThat(end).as("chunk " + chunk + ": ended early").isEqualTo(-1);
                    in.writeCharSequence(frame.substring(i, Math.min(frame.length(), i + chunk)),
                            StandardCharsets.ISO_8859_1);
                    end = scanner.frameEnd(in, 0, false);
                }
                assertThat(end).as("chunk " + chunk).isEqualTo(frame.length());
            } finally {
                in.release();
            }
        }
    }

    @Test
    void resp2Values() {
        RespValue v = decode("*5\r\n+OK\r\n-ERR no\r\n:-42\r\n$-1\r\n$0\r\n\r\n", false);
        assertThat(v.type()).isEqualTo(RespValue.Type.ARRAY);
        List<RespValue> e = v.elements();
        assertThat(e.get(0).asString()).isEqualTo("OK");
        assertThat(e.get(1).isError()).isTrue();
        assertThat(e.get(1).asString()).isEqualTo("ERR no");
        assertThat(e.get(2).integer()).isEqualTo(-42);
        assertThat(e.get(3).type()).isEqualTo(RespValue.Type.NULL);
        assertThat(e.get(4).bytes()).isEmpty();
        assertThat(decode("*-1\r\n", false).nullArray()).isTrue();
        // Binary-safe bulk strings: CRLF inside is data.
        assertThat(decode("$4\r\na\r\nb\r\n", false).asString()).isEqualTo("a\r\nb");
    }

    @Test
    void resp3ValuesRoundTripAndDowngradeForResp2() {
        String map = "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n#t\r\n";
        RespValue v = decode(map, false);
        assertThat(v.type()).isEqualTo(RespValue.Type.MAP);
        assertThat(encode(v, true)).isEqualTo(map);
        assertThat(encode(v, false)).isEqualTo("*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n");
        assertThat(encode(decode("_\r\n", false), false)).isEqualTo("$-1\r\n");
        assertThat(encode(decode("*-1\r\n", false), true)).isEqualTo("_\r\n");
        assertThat(encode(decode(",3.5\r\n", false), false)).isEqualTo("$3\r\n3.5\r\n");
        assertThat(encode(decode("~1\r\n+x\r\n", false), false)).isEqualTo("*1\r\n+x\r\n");
        assertThat(encode(decode("=8\r\ntxt:abcd\r\n", false), false)).isEqualTo("$4\r\nabcd\r\n");
        assertThat(encode(decode("!3\r\nERR\r\n", false), false)).isEqualTo("-ERR\r\n");
        assertThat(encode(decode("(12345678901234567890\r\n", false), true)).isEqualTo("(12345678901234567890\r\n");
        // An attribute is dropped, the value it annotates kept.
        assertThat(decode("|1\r\n+ttl\r\n:3\r\n:7\r\n", false).integer()).isEqualTo(7);
    }

    @Test
    void inlineCommands() {
        RespValue v = decode("SET  k\tv\r\n", true);
        assertThat(v.elements()).extracting(RespValue::asString).containsExactly("SET", "k", "v");
        assertThat(decode("PING\n", true).elements()).extracting(RespValue::asString).containsExactly("PING");
        assertThat(decode("\r\n", true).elements()).isEmpty();
    }

    @Test
    void malformedInputIsAProtocolError() {
        for (String bad : List.of("?x\r\n", "$abc\r\n", "$3\r\nabcde\r\n", "*1\r\n?\r\n", "+OK\n", "$-2\r\n",
                "*x\r\n")) {
            ByteBuf b = buf(bad);
            assertThatThrownBy(() -> RespDecoder.frameEnd(b, 0, false)).as(bad)
                    .isInstanceOf(RespDecoder.RespProtocolException.class);
            b.release();
        }
        ByteBuf longLine = Unpooled.buffer().writeByte('+').writeBytes(new byte[RespDecoder.MAX_LINE + 10]);
        assertThatThrownBy(() -> RespDecoder.frameEnd(longLine, 0, false))
                .isInstanceOf(RespDecoder.RespProtocolException.class);
        longLine.release();
        ByteBuf deep = buf("*1\r\n".repeat(RespDecoder.MAX_DEPTH + 2));
        assertThatThrownBy(() -> RespDecoder.frameEnd(deep, 0, false))
                .isInstanceOf(RespDecoder.RespProtocolException.class);
        deep.release();
    }

    @Test
    void encodesCommandsAsArraysOfBulkStrings() {
        ByteBuf out = Unpooled.buffer();
        RespEncoder.encodeCommand(List.of("GET".getBytes(), "key".getBytes()), out);
        assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
        out.release();
        assertThat(encode(RespValue.integer(1234), false)).isEqualTo(":1234\r\n");
        assertThat(encode(RespValue.error("no upstream host"), true)).isEqualTo("-no upstream host\r\n");
    }

    @Test
    void hashTagsAndKeyHash() {
        assertThat(RedisKeyHash.hashtag("{user1000}.following", true)).isEqualTo("user1000");
        assertThat(RedisKeyHash.hashtag("foo{}{bar}", true)).isEqualTo("foo{}{bar}");
        assertThat(RedisKeyHash.hashtag("foo{bar", true)).isEqualTo("foo{bar");
        assertThat(RedisKeyHash.hashtag("{a}", false)).isEqualTo("{a}");
        // Envoy's MurmurHash::murmurHash2 = libstdc++'s std::hash<std::string> (values printed by g++ on x86-64).
        assertThat(new RedisKeyHash("foo", false).hashKey()).isEqualTo(0x85a8e535edf11e5aL);
        assertThat(new RedisKeyHash("x{hello world}y", true).hashKey()).isEqualTo(0x4d6686d362067ff9L);
        assertThat(new RedisKeyHash("{u}.a", true).hashKey()).isEqualTo(new RedisKeyHash("{u}.b", true).hashKey());
        assertThat(new RedisKeyHash("{u}.a", false).hashKey()).isNotEqualTo(new RedisKeyHash("{u}.b", false).hashKey());
    }
}
