package dev.legate.filters.http.grpc;

import static dev.legate.filters.http.grpc.GrpcTestSupport.buf;
import static dev.legate.filters.http.grpc.GrpcTestSupport.concat;
import static dev.legate.filters.http.grpc.GrpcTestSupport.frame;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shared frame parser at every chunk split: a small stream of four frames (one empty, one with a payload
 * whose bytes look like a header) cut into two chunks at every point, and into three at every pair of points.
 * Leak-checked (the test kit's LeakCheck runs on every test class).
 */
class GrpcFrameDecoderTest {

    private static final byte[] STREAM = concat(frame("hello"), frame(new byte[0]),
            frame(new byte[] {0, 0, 0, 0, 2, 'h', 'i'}), frame(0x80, "grpc-status:0\r\n".getBytes()));
    private static final List<byte[]> FRAMES = List.of(frame("hello"), frame(new byte[0]),
            frame(new byte[] {0, 0, 0, 0, 2, 'h', 'i'}), frame(0x80, "grpc-status:0\r\n".getBytes()));
    private static final byte[] MESSAGES = concat("hello".getBytes(), new byte[] {0, 0, 0, 0, 2, 'h', 'i'},
            "grpc-status:0\r\n".getBytes());

    @Test
    void inspectCountsEachFrameOnceAtEverySplit() {
        for (int[] cuts : cuts()) {
            GrpcFrameDecoder d = new GrpcFrameDecoder();
            long total = 0;
            int from = 0;
            List<Long> deltas = new ArrayList<>();
            for (int cut : cuts) {
                ByteBuf b = buf(STREAM, from, cut);
                int before = b.readerIndex();
                long delta = d.inspect(b);
                assertThat(b.readerIndex()).as("inspect does not consume").isEqualTo(before);
                b.release();
                deltas.add(delta);
                total += delta;
                from = cut;
            }
            assertThat(total).as("cuts %s", List.of(cuts)).isEqualTo(4);
            assertThat(d.frameCount()).isEqualTo(4);
        }
    }

    @Test
    void inspectCountsAFrameWhenItsFirstByteArrives() {
        GrpcFrameDecoder d = new GrpcFrameDecoder();
        byte[] f = frame("hello");
        ByteBuf one = buf(f, 0, 1);
        assertThat(d.inspect(one)).isEqualTo(1);
        one.release();
        ByteBuf rest = buf(f, 1, f.length);
        assertThat(d.inspect(rest)).isZero();
        rest.release();
    }

    @Test
    void advanceStopsAtEachFrameEndAtEverySplit() {
        for (int[] cuts : cuts()) {
            GrpcFrameDecoder d = new GrpcFrameDecoder();
            List<byte[]> got = new ArrayList<>();
            ByteArrayOutputStream current = new ByteArrayOutputStream();
            int from = 0;
            for (int cut : cuts) {
                ByteBuf b = buf(STREAM, from, cut);
                int i = b.readerIndex();
                while (i < b.writerIndex()) {
                    int end = d.advance(b, i, b.writerIndex());
                    assertThat(end).isGreaterThan(i);
                    current.write(STREAM, from + i - b.readerIndex(), end - i);
                    if (d.atFrameStart()) {
                        got.add(current.toByteArray());
                        current.reset();
                    }
                    i = end;
                }
                b.release();
                from = cut;
            }
            assertThat(d.atFrameStart()).isTrue();
            assertThat(got).as("cuts %s", List.of(cuts)).containsExactlyElementsOf(FRAMES);
            assertThat(d.frameCount()).isEqualTo(4);
        }
    }

    @Test
    void aFrameOfAnyAnnouncedLengthKeepsItsPlace() {
        // 0xFFFFFFFF bytes announced (over what one buffer holds): every byte after it is that frame's payload,
        // headers look-alikes included, however many chunks come
        GrpcFrameDecoder d = new GrpcFrameDecoder();
        ByteBuf head = buf(new byte[] {0, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertThat(d.advance(head, 0, 5)).isEqualTo(5);
        head.release();
        byte[] lookAlike = frame("x");
        for (int n = 0; n < 1000; n++) {
            ByteBuf b = buf(lookAlike);
            assertThat(d.advance(b, 0, lookAlike.length)).isEqualTo(lookAlike.length);
            b.release();
            assertThat(d.atFrameStart()).isFalse();
        }
        assertThat(d.frameCount()).as("inside the payload: no frame starts").isEqualTo(1);
    }

    @Test
    void unframeLeavesOnlyTheMessagesAtEverySplit() {
        for (int[] cuts : cuts()) {
            GrpcFrameDecoder d = new GrpcFrameDecoder();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            int from = 0;
            for (int cut : cuts) {
                ByteBuf b = buf(STREAM, from, cut);
                d.unframe(b);
                got.writeBytes(ByteBufUtil.getBytes(b));
                b.release();
                from = cut;
            }
            assertThat(got.toByteArray()).as("cuts %s", List.of(cuts)).isEqualTo(MESSAGES);
        }
    }

    @Test
    void unframeWorksOnASliceOfALargerBuffer() {
        ByteBuf whole = Unpooled.buffer().writeBytes(new byte[] {9, 9}).writeBytes(frame("abc")).writeBytes(frame("de"));
        ByteBuf slice = whole.slice(2, whole.readableBytes() - 2);
        new GrpcFrameDecoder().unframe(slice);
        assertThat(new String(ByteBufUtil.getBytes(slice))).isEqualTo("abcde");
        assertThat(whole.getByte(0)).isEqualTo((byte) 9);
    }

    @Test
    void writeHeaderIsFlagsThenBigEndianLength() {
        ByteBuf b = GrpcFrameDecoder.writeHeader(Unpooled.buffer(), 0x80, 0x01020304L);
        assertThat(ByteBufUtil.getBytes(b)).containsExactly(0x80, 1, 2, 3, 4);
    }

    /** Every split of {@link #STREAM} into two chunks, and into three; each array holds the chunks' end offsets. */
    private static List<int[]> cuts() {
        int n = STREAM.length;
        List<int[]> all = new ArrayList<>();
        for (int i = 0; i <= n; i++) {
            all.add(new int[] {i, n});
            for (int j = i; j <= n; j++) {
                all.add(new int[] {i, j, n});
            }
        }
        return all;
    }
}
