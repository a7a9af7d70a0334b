package dev.legate.filters.network.redisproxy;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes {@link RespValue}s and commands as RESP (Envoy's {@code EncoderImpl}, {@code codec_impl.cc}).
 * A value is written in the protocol of the connection: RESP3 types reach a RESP2 client in their RESP2
 * form (null as {@code $-1}/{@code *-1}, map/set/push as arrays, double/big number/verbatim as bulk
 * strings, boolean as integer, blob error as error), as Redis itself does. Stateless.
 */
final class RespEncoder {

    private static final byte[] CRLF = {'\r', '\n'};

    private RespEncoder() {
    }

    /** Appends {@code v} to {@code out}; {@code resp3} whether the client speaks RESP3. */
    static void encode(RespValue v, ByteBuf out, boolean resp3) {
        switch (v.type()) {
            case SIMPLE_STRING, ERROR -> line(out, v.type().marker, v.bytes());
            case INTEGER -> number(out, ':', v.integer());
            case BULK_STRING -> bulk(out, v.bytes());
            case NULL -> {
                if (resp3) {
                    out.writeByte('_').writeBytes(CRLF);
                } else {
                    out.writeByte(v.nullArray() ? '*' : '$').writeByte('-').writeByte('1').writeBytes(CRLF);
                }
            }
            case DOUBLE, BIG_NUMBER -> {
                if (resp3) {
                    line(out, v.type().marker, v.bytes());
                } else {
                    bulk(out, v.bytes());
                }
            }
            case BOOLEAN -> {
                if (resp3) {
                    out.writeByte('#').writeByte(v.integer() != 0 ? 't' : 'f').writeBytes(CRLF);
                } else {
                    number(out, ':', v.integer());
                }
            }
            case BLOB_ERROR -> {
                if (resp3) {
                    number(out, '!', v.bytes().length);
                    out.writeBytes(v.bytes()).writeBytes(CRLF);
                } else {
                    line(out, (byte) '-', v.bytes());
                }
            }
            case VERBATIM_STRING -> {
                if (resp3) {
                    number(out, '=', v.bytes().length);
                    out.writeBytes(v.bytes()).writeBytes(CRLF);
                } else {
                    byte[] b = v.bytes();
                    // "txt:" format prefix dropped, as Redis does for RESP2.
                    int skip = b.length >= 4 && b[3] == ':' ? 4 : 0;
                    number(out, '$', b.length - skip);
                    out.writeBytes(b, skip, b.length - skip).writeBytes(CRLF);
                }
            }
            case ARRAY, SET, PUSH -> {
                List<RespValue> e = v.elements();
                number(out, resp3 ? v.type().marker : '*', e.size());
                for (RespValue x : e) {
                    encode(x, out, resp3);
                }
            }
            case MAP -> {
                List<RespValue> e = v.elements();
                number(out, resp3 ? '%' : '*', resp3 ? e.size() / 2 : e.size());
                for (RespValue x : e) {
                    encode(x, out, resp3);
                }
            }
        }
    }

    /** Appends a command: an array of bulk strings. */
    static void encodeCommand(List<byte[]> args, ByteBuf out) {
        number(out, '*', args.size());
        for (byte[] a : args) {
            bulk(out, a);
        }
    }

    private static void line(ByteBuf out, byte marker, byte[] text) {
        out.writeByte(marker).writeBytes(text).writeBytes(CRLF);
    }

    private static void bulk(ByteBuf out, byte[] b) {
        number(out, '$', b.length);
        out.writeBytes(b).writeBytes(CRLF);
    }

    private static void number(ByteBuf out, int marker, long n) {
        out.writeByte(marker);
        if (n >= 0 && n < 10) {
            out.writeByte('0' + (int) n);
        } else {
            out.writeCharSequence(Long.toString(n), StandardCharsets.US_ASCII);
        }
        out.writeBytes(CRLF);
    }
}
