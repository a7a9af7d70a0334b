package dev.legate.filters.network.redisproxy;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One RESP value, RESP2 or RESP3 (Envoy's {@code Common::Redis::RespValue}, {@code codec.h}). Immutable
 * once built; strings are kept as bytes ({@link #bytes()}), since Redis keys and values are binary.
 *
 * <p>A RESP2 null ({@code $-1} or {@code *-1}) and a RESP3 null ({@code _}) are all {@link Type#NULL};
 * {@link #nullArray()} remembers which RESP2 form it came as, so that it goes out the same way to a RESP2
 * client. Maps and attributes keep their keys and values flattened in {@link #elements()}.
 */
final class RespValue {

    /** The RESP types, with their leading byte. */
    enum Type {
        SIMPLE_STRING('+'), ERROR('-'), INTEGER(':'), BULK_STRING('$'), ARRAY('*'),
        // RESP3
        NULL('_'), DOUBLE(','), BOOLEAN('#'), BLOB_ERROR('!'), VERBATIM_STRING('='), BIG_NUMBER('('),
        MAP('%'), SET('~'), PUSH('>');

        final byte marker;

        Type(char marker) {
            this.marker = (byte) marker;
        }
    }

    static final RespValue OK = simple("OK");
    static final RespValue PONG = simple("PONG");
    static final RespValue NULL_BULK = new RespValue(Type.NULL, null, 0, null, false);

    private final Type type;
    private final byte[] bytes;
    private final long integer;
    private final List<RespValue> elements;
    private final boolean nullArray;

    private RespValue(Type type, byte[] bytes, long integer, List<RespValue> elements, boolean nullArray) {
        this.type = type;
        this.bytes = bytes;
        this.integer = integer;
        this.elements = elements;
        this.nullArray = nullArray;
    }

    /** A simple string ({@code +OK}). */
    static RespValue simple(String s) {
        return new RespValue(Type.SIMPLE_STRING, s.getBytes(StandardCharsets.UTF_8), 0, null, false);
    }

    /** An error ({@code -ERR ...}); {@code message} is the text after the dash. */
    static RespValue error(String message) {
        return new RespValue(Type.ERROR, message.getBytes(StandardCharsets.UTF_8), 0, null, false);
    }

    /** An integer. */
    static RespValue integer(long v) {
        return new RespValue(Type.INTEGER, null, v, null, false);
    }

    /** A bulk string; {@code b} is kept, not copied. */
    static RespValue bulk(byte[] b) {
        return new RespValue(Type.BULK_STRING, requireNonNull(b, "b"), 0, null, false);
    }

    /** A bulk string of the UTF-8 bytes of {@code s}. */
    static RespValue bulk(String s) {
        return bulk(s.getBytes(StandardCharsets.UTF_8));
    }

    /** An array; {@code elements} is kept, not copied. */
    static RespValue array(List<RespValue> elements) {
        return new RespValue(Type.ARRAY, null, 0, requireNonNull(elements, "elements"), false);
    }

    /** A null: {@code $-1} to RESP2 clients ({@code *-1} when {@code array}), {@code _} to RESP3 clients. */
    static RespValue nullValue(boolean array) {
        return array ? new RespValue(Type.NULL, null, 0, null, true) : NULL_BULK;
    }

    /** A value of a string-like {@code type} (simple, error, double, big number, blob error, verbatim). */
    static RespValue ofBytes(Type type, byte[] b) {
        return new RespValue(type, b, 0, null, false);
    }

    /** A value of an aggregate {@code type} (array, set, push, map with keys and values flattened). */
    static RespValue aggregate(Type type, List<RespValue> elements) {
        return new RespValue(type, null, 0, elements, false);
    }

    /** A RESP3 boolean. */
    static RespValue bool(boolean v) {
        return new RespValue(Type.BOOLEAN, null, v ? 1 : 0, null, false);
    }

    Type type() {
        return type;
    }

    /** The bytes of a string-like value; {@code null} for integers, aggregates and nulls. */
    byte[] bytes() {
        return bytes;
    }

    /** The value of an integer, or 1/0 for a boolean. */
    long integer() {
        return integer;
    }

    /** The elements of an aggregate; {@code null} otherwise. */
    List<RespValue> elements() {
        return elements;
    }

    /** For {@link Type#NULL}: whether it arrived as a RESP2 null array ({@code *-1}). */
    boolean nullArray() {
        return nullArray;
    }

    /** The bytes of a string-like value as ISO-8859-1 text (one char per byte), for keys and names. */
    String asString() {
        return bytes == null ? "" : new String(bytes, StandardCharsets.ISO_8859_1);
    }

    boolean isError() {
        return type == Type.ERROR || type == Type.BLOB_ERROR;
    }

    @Override
    public String toString() {
        return switch (type) {
            case INTEGER, BOOLEAN -> type + " " + integer;
            case NULL -> "NULL";
            case ARRAY, SET, PUSH, MAP -> type + " " + elements;
            default -> type + " " + new String(bytes, StandardCharsets.UTF_8);
        };
    }
}
