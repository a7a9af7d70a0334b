package dev.legate.host.accesslog;

import dev.legate.api.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Envoy substitution format string ({@code SubstitutionFormatString.text_format}), parsed once at config
 * time into literal text and command operators ({@code %REQ(:PATH)%}, {@code %RESPONSE_CODE%}, ...).
 * Immutable and shared by every event loop; {@link #format} allocates one string per entry.
 *
 * <p>Grammar (Envoy's {@code SubstitutionFormatParser}): {@code %%} is a literal {@code %};
 * {@code %NAME%}, {@code %NAME(arg)%} and {@code %NAME(arg):N%} are operators, {@code :N} truncating the value
 * to N characters. A missing or empty value prints {@code -} (or nothing with {@code omit_empty_values}).
 */
final class FormatString {

    /** Envoy's default access log format, trailing newline included. */
    static final String DEFAULT_FORMAT = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
            + "%PROTOCOL%\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
            + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
            + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

    private static final Pattern COMMAND =
            Pattern.compile("\\G%([A-Z][A-Z0-9_]*)(?:\\((.*?)\\))?(?::(\\d+))?%");

    /** One piece of the format: literal text, or an operator with its truncation. */
    private record Segment(String literal, CommandOperators.Operator operator, int maxLength) {
    }

    private final Segment[] segments;
    private final boolean omitEmptyValues;

    private FormatString(Segment[] segments, boolean omitEmptyValues) {
        this.segments = segments;
        this.omitEmptyValues = omitEmptyValues;
    }

    /**
     * Parses {@code format}.
     *
     * @param path the config path of the format, for errors
     * @throws ConfigException naming {@code path} and the operator when an operator is unknown or malformed
     */
    static FormatString parse(String format, boolean omitEmptyValues, String path) {
        List<Segment> out = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        Matcher m = COMMAND.matcher(format);
        int i = 0;
        while (i < format.length()) {
            char c = format.charAt(i);
            if (c != '%') {
                literal.append(c);
                i++;
                continue;
            }
            if (i + 1 < format.length() && format.charAt(i + 1) == '%') {
                literal.append('%');
                i += 2;
                continue;
            }
            m.region(i, format.length());
            if (!m.lookingAt()) {
                int end = format.indexOf('%', i + 1);
                String bad = end < 0 ? format.substring(i) : format.substring(i, end + 1);
                throw ConfigException.at(path, "invalid command operator " + bad + " at position " + i
                        + " (expected: %NAME%, %NAME(arg)% or %NAME(arg):N%; a literal % is written %%)");
            }
            if (!literal.isEmpty()) {
                out.add(new Segment(literal.toString(), null, -1));
                literal.setLength(0);
            }
            String name = m.group(1);
            String arg = m.group(2);
            int maxLength = m.group(3) == null ? -1 : parseLength(m.group(3), m.group(), path);
            out.add(new Segment(null, CommandOperators.create(name, arg, m.group(), path), maxLength));
            i = m.end();
        }
        if (!literal.isEmpty()) {
            out.add(new Segment(literal.toString(), null, -1));
        }
        return new FormatString(out.toArray(new Segment[0]), omitEmptyValues);
    }

    private static int parseLength(String digits, String command, String path) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw ConfigException.at(path, "invalid length in " + command);
        }
    }

    /** The formatted entry. */
    String format(LogContext ctx) {
        if (segments.length == 1 && segments[0].literal != null) {
            return segments[0].literal;
        }
        StringBuilder sb = new StringBuilder(128);
        for (Segment s : segments) {
            if (s.literal != null) {
                sb.append(s.literal);
            } else {
                String v = value(s, ctx);
                if (v == null) {
                    if (!omitEmptyValues) {
                        sb.append('-');
                    }
                } else {
                    sb.append(v);
                }
            }
        }
        return sb.toString();
    }

    /**
     * For JSON: the value, or {@code null} when the format is a single operator whose value is missing (so
     * that {@code omit_empty_values} can drop the key).
     */
    String formatOrNull(LogContext ctx) {
        if (segments.length == 1 && segments[0].operator != null) {
            return value(segments[0], ctx);
        }
        return format(ctx);
    }

    private static String value(Segment s, LogContext ctx) {
        String v;
        try {
            v = s.operator.value(ctx);
        } catch (RuntimeException e) {
            v = null; // traffic never throws: a value that cannot be computed is missing
        }
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (s.maxLength >= 0 && v.length() > s.maxLength) {
            v = v.substring(0, s.maxLength);
        }
        return v;
    }
}
