package dev.legate.filters.http.grpc;

import io.netty.buffer.ByteBuf;

/**
 * The gRPC message framing of one direction of one stream (gRPC's PROTOCOL-HTTP2.md "Length-Prefixed-Message":
 * a flags byte, a 4-byte big-endian length, then that many bytes), parsed incrementally: a frame may be split
 * across any number of chunks, at any byte. Envoy's {@code Grpc::FrameInspector} and {@code Grpc::Decoder}
 * (source/common/grpc/codec.cc), as one class with three uses:
 * <ul>
 *   <li>{@link #inspect} counts the frames that start in a chunk without consuming it (grpc_stats'
 *       message counts: a frame counts from its flags byte on, as in Envoy);</li>
 *   <li>{@link #advance} walks a chunk frame by frame, telling where each frame ends (grpc_web's text-mode
 *       response, which base64-encodes each frame separately, as it arrives);</li>
 *   <li>{@link #unframe} drops the frame headers from a chunk in place, leaving only the messages
 *       (grpc_http1_bridge's {@code upgrade_protobuf_to_grpc} response).</li>
 * </ul>
 * Use one instance for one of them only. {@link #writeHeader} writes a frame header.
 *
 * <p>Confined to the stream's event loop. Holds no buffer: only the position in the current frame (a frame may
 * announce up to 2^32-1 bytes; none is held whole).
 */
public final class GrpcFrameDecoder {

    /** Flags byte + 4-byte length. */
    public static final int HEADER_SIZE = 5;
    /** The flags bit of a gRPC-Web trailer frame (PROTOCOL-WEB.md). */
    public static final int TRAILER_FLAG = 0x80;

    /** Bytes of the current frame's header seen so far; {@link #HEADER_SIZE} while in its message. */
    private int headerIndex;
    private long length;
    private long payloadRemaining;
    private long frameCount;

    /** Frames started so far (counted at their first byte). */
    public long frameCount() {
        return frameCount;
    }

    /**
     * Counts the frames that start in {@code data} (Envoy's {@code FrameInspector::inspect}).
     *
     * @param data borrowed, not consumed
     * @return the frames that started in this chunk
     */
    public long inspect(ByteBuf data) {
        long before = frameCount;
        int end = data.writerIndex();
        for (int i = data.readerIndex(); i < end; ) {
            i = advance(data, i, end);
        }
        return frameCount - before;
    }

    /**
     * Drops the frame headers in {@code data}, in place: afterwards its readable bytes are the message bytes only.
     * A header split across chunks is dropped piece by piece.
     *
     * @param data borrowed; its readable bytes are rewritten (a filter may modify the chunk it is given)
     */
    public void unframe(ByteBuf data) {
        int r = data.readerIndex();
        int end = data.writerIndex();
        // Common case: the chunk starts with (the rest of) a header: skip it, no copying.
        while (r < end && headerIndex != HEADER_SIZE) {
            onHeaderByte(data.getUnsignedByte(r++));
        }
        data.readerIndex(r);
        int w = r;
        while (r < end) {
            if (headerIndex == HEADER_SIZE) {
                int n = (int) Math.min(payloadRemaining, end - r);
                if (w != r) {
                    byte[] tmp = new byte[n];
                    data.getBytes(r, tmp);
                    data.setBytes(w, tmp);
                }
                w += n;
                r += n;
                payloadRemaining -= n;
                if (payloadRemaining == 0) {
                    headerIndex = 0;
                }
            } else {
                onHeaderByte(data.getUnsignedByte(r++));
            }
        }
        data.writerIndex(w);
    }

    /**
     * Walks the bytes of the current frame (Envoy's {@code Grpc::Decoder}, without buffering): from {@code from},
     * the bytes of {@code data} up to the end of the current frame or {@code to}, whichever comes first, header
     * bytes included; the state advances over them. When {@link #atFrameStart()} holds afterwards, the frame ended
     * at the returned index. Any frame length (0 to 2^32-1) is followed byte by byte, so the parser never loses its
     * place, whatever a frame announces.
     *
     * @param data borrowed, not consumed (indexes only)
     * @return the index after the last byte walked; {@code from} when {@code from == to}
     */
    public int advance(ByteBuf data, int from, int to) {
        int i = from;
        while (i < to) {
            if (headerIndex == HEADER_SIZE) {
                int n = (int) Math.min(payloadRemaining, to - i);
                i += n;
                payloadRemaining -= n;
                if (payloadRemaining == 0) {
                    headerIndex = 0;
                    return i;
                }
                continue;
            }
            onHeaderByte(data.getUnsignedByte(i++));
            if (headerIndex == 0) {
                return i; // an empty frame ended with its header
            }
        }
        return i;
    }

    /** Whether the parser is between frames: no frame started, or the last one ended (not truncated). */
    public boolean atFrameStart() {
        return headerIndex == 0;
    }

    /** Writes a frame header: {@code flags}, then {@code length} as 4 bytes big-endian. */
    public static ByteBuf writeHeader(ByteBuf out, int flags, long length) {
        return out.writeByte(flags).writeInt((int) length);
    }

    private void onHeaderByte(int b) {
        if (headerIndex == 0) {
            frameCount++;
            length = 0;
        } else {
            length = (length << 8) | b;
        }
        headerIndex++;
        if (headerIndex == HEADER_SIZE) {
            payloadRemaining = length;
            if (length == 0) {
                headerIndex = 0;
            }
        }
    }

}
