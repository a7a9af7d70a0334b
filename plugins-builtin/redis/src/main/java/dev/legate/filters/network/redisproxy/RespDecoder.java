package dev.legate.filters.network.redisproxy;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * RESP2/RESP3 framing and parsing over a cumulation {@link ByteBuf} (Envoy's {@code DecoderImpl},
 * {@code source/extensions/filters/network/common/redis/codec_impl.cc}; the types are Redis's RESP3 spec).
 *
 * <p>Two steps, so that a proxy pays for parsing only where it must: {@link #frameEnd} finds where the value
 * that starts at an index ends (or that it is not complete yet) without allocating, so a reply can be passed
 * on as a slice of the bytes read; {@link #decode} builds the {@link RespValue} of a complete frame. Requests
 * from clients may also be inline commands ({@code GET k\r\n}, split on spaces and tabs), as Redis accepts.
 *
 * <p>Limits, as Redis's: a bulk string of at most 512 MiB, a header or inline line of at most 64 KiB, and
 * (ours) aggregates nested at most 128 deep. Anything else malformed is a {@link RespProtocolException}.
 * Never blocks; reads only between the indexes given; the static methods are stateless, a {@link Scanner}
 * keeps one byte stream's scan position.
 */
final class RespDecoder {

    /** Redis's {@code proto-max-bulk-len} default. */
    static final long MAX_BULK_LENGTH = 512L * 1024 * 1024;
    /** Redis's {@code PROTO_INLINE_MAX_SIZE}: a line without its CRLF longer than this is an error. */
    static final int MAX_LINE = 64 * 1024;
    static final int MAX_DEPTH = 128;

    /** Thrown for bytes that are not RESP. */
    static final class RespProtocolException extends RuntimeException {
        RespProtocolException(String message) {
            super(message, null, false, false);
        }
    }

    private RespDecoder() {
    }

    /**
     * Where the value starting at {@code from} ends, scanning it from its start (a fresh {@link Scanner}).
     *
     * @param inline whether a line that does not start with a RESP type byte is an inline command
     * @return the index just after the value, or -1 when {@code buf} does not hold all of it yet (up to its
     *         writer index)
     * @throws RespProtocolException when the bytes are not RESP
     */
    static int frameEnd(ByteBuf buf, int from, boolean inline) {
        return new Scanner().frameEnd(buf, from, inline);
    }

    /**
     * Finds frame ends across reads without rescanning: when a frame is incomplete it remembers, relative to
     * the frame's start, how far it got (the values already complete, the open aggregates' remaining element
     * counts, and where the search for the current line's LF stopped), so the next call resumes there. A large
     * pipelined request arriving in many reads therefore costs time linear in its size, not quadratic.
     *
     * <p>One per byte stream (client connection or upstream connection), used on its event loop only. Between
     * calls the caller may move the bytes (e.g. copy the rest into a cumulation), but must pass the same frame's
     * start again until a frame end is returned, or call {@link #reset}.
     */
    static final class Scanner {

        /** Bytes from the frame's start to the first value not complete yet. */
        private int offset;
        /** Bytes from the frame's start to where the search for the current line's LF resumes. */
        private int lineSearch;
        /** Open aggregates: the number of values each still needs; {@code depth} of them. */
        private final long[] remaining = new long[MAX_DEPTH + 2];
        private int depth;
        /** How many type lines were parsed, over the scanner's life (for tests: no rescanning). */
        private long linesParsed;

        /** Forgets an incomplete frame (its bytes were dropped). */
        void reset() {
            offset = 0;
            lineSearch = 0;
            depth = 0;
        }

        /**
         * The number of value type lines parsed so far: a value's line is parsed once, plus once per read that
         * ends inside the value.
         */
        long linesParsed() {
            return linesParsed;
        }

        /**
         * Where the value starting at {@code from} ends; resumes where the last call on the same frame stopped.
         *
         * @param inline whether a line that does not start with a RESP type byte is an inline command
         * @return the index just after the value (the scanner is then reset), or -1 when {@code b} does not
         *         hold all of it yet (up to its writer index)
         * @throws RespProtocolException when the bytes are not RESP
         */
        int frameEnd(ByteBuf b, int from, boolean inline) {
            int to = b.writerIndex();
            while (true) {
                int i = from + offset;
                if (i >= to) {
                    return -1;
                }
                if (depth > MAX_DEPTH) {
                    throw new RespProtocolException("nesting deeper than " + MAX_DEPTH);
                }
                int lf = lineFeed(b, Math.max(i, from + lineSearch), i, to);
                if (lf < 0) {
                    lineSearch = to - from;
                    return -1;
                }
                lineSearch = lf - from;
                linesParsed++;
                byte t = b.getByte(i);
                int next = lf + 1;
                long end;
                if (inline && depth == 0 && t != '*') {
                    end = next; // Redis: a request not starting with '*' is an inline command
                } else {
                    switch (t) {
                        case '+', '-', ':', ',', '#', '(', '_' -> {
                            crlf(b, lf);
                            end = next;
                        }
                        case '$', '!', '=' -> {
                            crlf(b, lf);
                            long len = parseLong(b, i + 1, lf - 1);
                            if (len == -1 && t == '$') {
                                end = next;
                            } else {
                                if (len < 0 || len > MAX_BULK_LENGTH) {
                                    throw new RespProtocolException("invalid bulk length " + len);
                                }
                                end = next + len + 2;
                                if (end > to) {
                                    return -1;
                                }
                                if (b.getByte((int) end - 2) != '\r' || b.getByte((int) end - 1) != '\n') {
                                    throw new RespProtocolException("bulk string not followed by CRLF");
                                }
                            }
                        }
                        case '*', '~', '>', '%', '|' -> {
                            crlf(b, lf);
                            long n = parseLong(b, i + 1, lf - 1);
                            if (n == -1 && t == '*') {
                                end = next;
                            } else {
                                if (n < 0 || n > Integer.MAX_VALUE / 2) {
                                    throw new RespProtocolException("invalid aggregate length " + n);
                                }
                                // An attribute is followed by the value it annotates; both form one frame.
                                long count = (t == '%' || t == '|' ? 2 * n : n) + (t == '|' ? 1 : 0);
                                if (count > 0) {
                                    remaining[depth++] = count;
                                    offset = next - from;
                                    continue;
                                }
                                end = next;
                            }
                        }
                        default -> throw new RespProtocolException("invalid value type '" + (char) (t & 0xFF) + "'");
                    }
                }
                offset = (int) end - from;
                while (depth > 0 && --remaining[depth - 1] == 0) {
                    depth--;
                }
                if (depth == 0) {
                    reset();
                    return (int) end;
                }
            }
        }
    }

    /**
     * The index of the LF ending the line that starts at {@code i}, searching from {@code search} (an index of
     * that line already known to hold no LF before it), or -1 if not read yet.
     */
    private static int lineFeed(ByteBuf b, int search, int i, int to) {
        int limit = Math.min(to, i + MAX_LINE + 2);
        int lf = search >= limit ? -1 : b.indexOf(search, limit, (byte) '\n');
        if (lf < 0 && to - i > MAX_LINE + 1) {
            throw new RespProtocolException("line longer than " + MAX_LINE + " bytes");
        }
        return lf;
    }

    private static void crlf(ByteBuf b, int lf) {
        if (b.getByte(lf - 1) != '\r') {
            throw new RespProtocolException("line not ended by CRLF");
        }
    }

    private static long parseLong(ByteBuf b, int from, int to) {
        if (from >= to) {
            throw new RespProtocolException("empty number");
        }
        boolean neg = b.getByte(from) == '-';
        int i = neg ? from + 1 : from;
        if (i >= to || to - i > 19) {
            throw new RespProtocolException("invalid number");
        }
        long v = 0;
        for (; i < to; i++) {
            int d = b.getByte(i) - '0';
            if (d < 0 || d > 9) {
                throw new RespProtocolException("invalid number");
            }
            v = v * 10 + d;
        }
        return neg ? -v : v;
    }

    /**
     * Parses the complete frame {@code [from, end)} found by {@link #frameEnd} with the same {@code inline}.
     * An inline command becomes an array of bulk strings; an empty inline line an empty array. Attributes
     * are dropped.
     */
    static RespValue decode(ByteBuf buf, int from, int end, boolean inline) {
        if (inline && buf.getByte(from) != '*') {
            int lf = buf.indexOf(from, end, (byte) '\n');
            return inline(buf, from, lf > from && buf.getByte(lf - 1) == '\r' ? lf - 1 : lf);
        }
        int[] pos = {from};
        return parse(buf, pos, end);
    }

    private static RespValue parse(ByteBuf b, int[] pos, int to) {
        int i = pos[0];
        byte t = b.getByte(i);
        int lf = b.indexOf(i, to, (byte) '\n');
        int lineEnd = lf - 1; // the CR
        pos[0] = lf + 1;
        switch (t) {
            case '+' -> {
                return RespValue.ofBytes(RespValue.Type.SIMPLE_STRING, bytes(b, i + 1, lineEnd));
            }
            case '-' -> {
                return RespValue.ofBytes(RespValue.Type.ERROR, bytes(b, i + 1, lineEnd));
            }
            case ',' -> {
                return RespValue.ofBytes(RespValue.Type.DOUBLE, bytes(b, i + 1, lineEnd));
            }
            case '(' -> {
                return RespValue.ofBytes(RespValue.Type.BIG_NUMBER, bytes(b, i + 1, lineEnd));
            }
            case ':' -> {
                return RespValue.integer(parseLong(b, i + 1, lineEnd));
            }
            case '#' -> {
                return RespValue.bool(lineEnd > i + 1 && b.getByte(i + 1) == 't');
            }
            case '_' -> {
                return RespValue.nullValue(false);
            }
            case '$', '!', '=' -> {
                long len = parseLong(b, i + 1, lineEnd);
                if (len == -1) {
                    return RespValue.nullValue(false);
                }
                int start = pos[0];
                pos[0] = start + (int) len + 2;
                byte[] data = bytes(b, start, start + (int) len);
                RespValue.Type type = t == '$' ? RespValue.Type.BULK_STRING
                        : t == '!' ? RespValue.Type.BLOB_ERROR : RespValue.Type.VERBATIM_STRING;
                return RespValue.ofBytes(type, data);
            }
            case '*', '~', '>', '%', '|' -> {
                long n = parseLong(b, i + 1, lineEnd);
                if (n == -1) {
                    return RespValue.nullValue(true);
                }
                int count = (int) (t == '%' || t == '|' ? 2 * n : n);
                List<RespValue> elements = new ArrayList<>(Math.min(count, 1024));
                for (int k = 0; k < count; k++) {
                    elements.add(parse(b, pos, to));
                }
                if (t == '|') {
                    return parse(b, pos, to);
                }
                RespValue.Type type = switch (t) {
                    case '*' -> RespValue.Type.ARRAY;
                    case '~' -> RespValue.Type.SET;
                    case '>' -> RespValue.Type.PUSH;
                    default -> RespValue.Type.MAP;
                };
                return RespValue.aggregate(type, elements);
            }
            default -> throw new RespProtocolException("invalid value type '" + (char) (t & 0xFF) + "'");
        }
    }

    /** An inline command: the words of the line, separated by spaces or tabs, as bulk strings. */
    private static RespValue inline(ByteBuf b, int from, int to) {
        List<RespValue> words = new ArrayList<>(4);
        int i = from;
        while (i < to) {
            while (i < to && isBlank(b.getByte(i))) {
                i++;
            }
            int start = i;
            while (i < to && !isBlank(b.getByte(i))) {
                i++;
            }
            if (i > start) {
                words.add(RespValue.bulk(bytes(b, start, i)));
            }
        }
        return RespValue.array(words);
    }

    private static boolean isBlank(byte c) {
        return c == ' ' || c == '\t';
    }

    private static byte[] bytes(ByteBuf b, int from, int to) {
        byte[] out = new byte[to - from];
        b.getBytes(from, out);
        return out;
    }
}
