package dev.legate.filters.http.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.List;

/**
 * The gRPC message framing of one direction of one stream (gRPC's PROTOCOL-HTTP2.md "Length-Prefixed-Message":
 * a flags byte, a 4-byte big-endian length, then that many bytes), parsed incrementally: a frame may be split
 * across any number of chunks, at any byte. Envoy's {@code Grpc::FrameInspector} and {@code Grpc::Decoder}
 * (source/common/grpc/codec.cc), as one class with three uses:
 * <ul>
 *   <li>{@link #inspect} counts the frames that start in a chunk without consuming it (grpc_stats'
 *       message counts: a frame counts from its flags byte on, as in Envoy);</li>
 *   <li>{@link #decode} cuts a chunk into whole frames, header included, keeping a partial frame for the next
 *       chunk (grpc_web's text-mode response, which base64-encodes each frame separately);</li>
 *   <li>{@link #unframe} drops the frame headers from a chunk in place, leaving only the messages
 *       (grpc_http1_bridge's {@code upgrade_protobuf_to_grpc} response).</li>
 * </ul>
 * Use one instance for one of them only. {@link #writeHeader} writes a frame header.
 *
 * <p>Confined to the stream's event loop. Holds at most one partial frame ({@link #decode} only), released by
 * {@link #release()}.
 */
public final class GrpcFrameDecoder {

    /** Flags byte + 4-byte length. */
    public static final int HEADER_SIZE = 5;
    /** The flags bit of a gRPC-Web trailer frame (PROTOCOL-WEB.md). */
    public static final int TRAILER_FLAG = 0x80;
    /** The largest frame (header included) {@link #decode} accepts: what one {@code ByteBuf} can hold. */
    public static final long MAX_FRAME = Integer.MAX_VALUE - 8;

    /** Bytes of the current frame's header seen so far; {@link #HEADER_SIZE} while in its message. */
    private int headerIndex;
    private long length;
    private long payloadRemaining;
    private long frameCount;
    private ByteBuf pending;

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
        long delta = 0;
        int i = data.readerIndex();
        int end = data.writerIndex();
        while (i < end) {
            if (headerIndex == HEADER_SIZE) {
                int n = (int) Math.min(payloadRemaining, end - i);
                i += n;
                payloadRemaining -= n;
                if (payloadRemaining == 0) {
                    headerIndex = 0;
                }
                continue;
            }
            onHeaderByte(data.getUnsignedByte(i++));
            if (headerIndex == 1) {
                delta++;
            }
        }
        return delta;
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
     * Cuts {@code data} into whole frames (Envoy's {@code Grpc::Decoder::decode}): each frame, header included,
     * is added to {@code out}; the bytes of an unfinished frame are kept for the next call.
     *
     * @param data consumed (its reader index ends at its writer index)
     * @param out  receives the frames; each is transferred to the caller, who releases it
     * @return {@code false} when a frame announces more than {@link #MAX_FRAME} bytes: nothing more is decoded
     */
    public boolean decode(ByteBuf data, List<ByteBuf> out) {
        while (data.isReadable()) {
            if (pending == null) {
                int readable = data.readableBytes();
                if (readable >= HEADER_SIZE) {
                    long frame = HEADER_SIZE + data.getUnsignedInt(data.readerIndex() + 1);
                    if (frame > MAX_FRAME) {
                        return false;
                    }
                    if (readable >= frame) {
                        frameCount++;
                        out.add(data.readRetainedSlice((int) frame));
                        continue;
                    }
                }
                pending = allocator(data).buffer(Math.max(HEADER_SIZE, readable));
            }
            if (pending.readableBytes() < HEADER_SIZE) {
                pending.writeBytes(data, Math.min(HEADER_SIZE - pending.readableBytes(), data.readableBytes()));
                if (pending.readableBytes() < HEADER_SIZE) {
                    return true;
                }
            }
            long frame = HEADER_SIZE + pending.getUnsignedInt(1);
            if (frame > MAX_FRAME) {
                return false;
            }
            int n = (int) Math.min(frame - pending.readableBytes(), data.readableBytes());
            pending.writeBytes(data, n);
            if (pending.readableBytes() == frame) {
                frameCount++;
                out.add(pending);
                pending = null;
            }
        }
        return true;
    }

    /** Whether {@link #decode} holds part of a frame. */
    public boolean hasPartialFrame() {
        return pending != null && pending.isReadable();
    }

    /** The bytes of the unfinished frame {@link #decode} holds, or {@code null}; transferred to the caller. */
    public ByteBuf takePartialFrame() {
        ByteBuf p = pending;
        pending = null;
        return p;
    }

    /** Releases the partial frame {@link #decode} holds, if any. */
    public void release() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
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

    private static ByteBufAllocator allocator(ByteBuf data) {
        return data.alloc();
    }
}
