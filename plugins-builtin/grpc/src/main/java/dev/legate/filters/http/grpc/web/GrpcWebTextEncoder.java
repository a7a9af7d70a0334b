package dev.legate.filters.http.grpc.web;

import dev.legate.filters.http.grpc.GrpcFrameDecoder;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Base64;

/**
 * The base64 of a gRPC-Web text-mode response body, encoded as it arrives. Envoy's {@code GrpcWebFilter} base64s
 * each gRPC frame whole, with padding (source/extensions/filters/http/grpc_web/grpc_web_filter.cc, {@code encodeData});
 * this encoder gives the same bytes without holding a frame: 4 characters are written for every 3 bytes as they
 * come, the 0–2 bytes short of a group are carried to the next chunk, and the padding is written only where the
 * frame ends. The frame boundaries come from a {@link GrpcFrameDecoder}, so a frame of any announced length is
 * followed to its end.
 *
 * <p>Confined to the stream's event loop; holds at most 2 bytes (no buffer).
 */
final class GrpcWebTextEncoder {

    private static final Base64.Encoder BASE64 = Base64.getEncoder();

    private final GrpcFrameDecoder frames = new GrpcFrameDecoder();
    private final byte[] carry = new byte[3];
    private int carryLength;

    /**
     * Appends the base64 of {@code data}'s readable bytes to {@code out}, padding each frame that ends in them.
     *
     * @param data borrowed, consumed (its reader index ends at its writer index)
     * @param out  receives up to {@code 4 * ceil((carried + readable) / 3)} characters (ASCII bytes)
     */
    void encode(ByteBuf data, ByteBuf out) {
        int i = data.readerIndex();
        int end = data.writerIndex();
        while (i < end) {
            int frameEnd = frames.advance(data, i, end);
            write(data, i, frameEnd - i, out);
            if (frames.atFrameStart()) {
                flush(out);
            }
            i = frameEnd;
        }
        data.readerIndex(end);
    }

    /** Whether the bytes seen so far end inside a frame (a truncated frame when the stream ends here). */
    boolean inFrame() {
        return !frames.atFrameStart();
    }

    /** The most characters {@link #encode} may write for {@code readable} more bytes. */
    int maxEncodedLength(int readable) {
        return (int) Math.min(Integer.MAX_VALUE - 8, ((long) carryLength + readable + 2) / 3 * 4 + 4);
    }

    private void write(ByteBuf src, int index, int length, ByteBuf out) {
        while (carryLength > 0 && carryLength < 3 && length > 0) {
            carry[carryLength++] = src.getByte(index++);
            length--;
        }
        if (carryLength == 3) {
            out.writeBytes(BASE64.encode(carry));
            carryLength = 0;
        }
        int whole = length / 3 * 3;
        if (whole > 0) {
            out.writeBytes(BASE64.encode(src.nioBuffer(index, whole)));
        }
        for (int k = index + whole; k < index + length; k++) {
            carry[carryLength++] = src.getByte(k);
        }
    }

    /** The end of a frame: the carried 1–2 bytes become a padded group. */
    private void flush(ByteBuf out) {
        if (carryLength > 0) {
            out.writeBytes(BASE64.encode(Arrays.copyOf(carry, carryLength)));
            carryLength = 0;
        }
    }
}
