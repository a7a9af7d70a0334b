package dev.legate.host.accesslog;

import dev.legate.api.ConfigException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The argument of {@code %START_TIME(...)%}: a strftime subset, always in UTC, compiled at config time.
 * Without an argument Envoy prints ISO-8601 with milliseconds, {@code 2016-04-15T20:17:00.310Z}.
 *
 * <p>Directives: {@code %Y %y %m %d %e %H %M %S %j %F %T %z %Z %s %%}, and fractional seconds {@code %f}
 * (9 digits) or {@code %1f}..{@code %9f}. Start times are recorded in milliseconds, so digits past the third
 * are 0. Any other directive is a {@link ConfigException}.
 */
final class StartTimeFormat {

    /** Envoy's default: {@code %Y-%m-%dT%H:%M:%S.%3fZ}. */
    static final StartTimeFormat ISO = parse("%Y-%m-%dT%H:%M:%S.%3fZ", "%START_TIME%", "");

    /** A literal ({@code directive == 0}) or a directive with its digit count for {@code f}. */
    private record Part(String literal, char directive, int digits) {
    }

    private final Part[] parts;

    private StartTimeFormat(Part[] parts) {
        this.parts = parts;
    }

    static StartTimeFormat parse(String pattern, String command, String path) {
        List<Part> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 >= pattern.length()) {
                lit.append(c);
                continue;
            }
            char d = pattern.charAt(++i);
            int digits = 0;
            if (d >= '1' && d <= '9' && i + 1 < pattern.length() && pattern.charAt(i + 1) == 'f') {
                digits = d - '0';
                d = pattern.charAt(++i);
            }
            if (d == '%') {
                lit.append('%');
                continue;
            }
            if ("YymdeHMSjFTzZsf".indexOf(d) < 0) {
                throw ConfigException.at(path, "unsupported time directive %" + d + " in " + command
                        + " (expected one of %Y %y %m %d %e %H %M %S %j %F %T %z %Z %s %f %3f %6f %9f)");
            }
            if (!lit.isEmpty()) {
                parts.add(new Part(lit.toString(), (char) 0, 0));
                lit.setLength(0);
            }
            parts.add(new Part(null, d, d == 'f' && digits == 0 ? 9 : digits));
        }
        if (!lit.isEmpty()) {
            parts.add(new Part(lit.toString(), (char) 0, 0));
        }
        return new StartTimeFormat(parts.toArray(new Part[0]));
    }

    String format(long epochMillis) {
        long seconds = Math.floorDiv(epochMillis, 1000);
        int millis = Math.floorMod(epochMillis, 1000);
        LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, millis * 1_000_000, ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(32);
        for (Part p : parts) {
            if (p.literal != null) {
                sb.append(p.literal);
                continue;
            }
            switch (p.directive) {
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> pad(sb, t.getYear() % 100, 2);
                case 'm' -> pad(sb, t.getMonthValue(), 2);
                case 'd' -> pad(sb, t.getDayOfMonth(), 2);
                case 'e' -> {
                    if (t.getDayOfMonth() < 10) {
                        sb.append(' ');
                    }
                    sb.append(t.getDayOfMonth());
                }
                case 'H' -> pad(sb, t.getHour(), 2);
                case 'M' -> pad(sb, t.getMinute(), 2);
                case 'S' -> pad(sb, t.getSecond(), 2);
                case 'j' -> pad(sb, t.getDayOfYear(), 3);
                case 'F' -> {
                    sb.append(t.getYear()).append('-');
                    pad(sb, t.getMonthValue(), 2);
                    sb.append('-');
                    pad(sb, t.getDayOfMonth(), 2);
                }
                case 'T' -> {
                    pad(sb, t.getHour(), 2);
                    sb.append(':');
                    pad(sb, t.getMinute(), 2);
                    sb.append(':');
                    pad(sb, t.getSecond(), 2);
                }
                case 'z' -> sb.append("+0000");
                case 'Z' -> sb.append("UTC");
                case 's' -> sb.append(seconds);
                case 'f' -> {
                    // millis as 3 digits, then zeros (nanosecond precision is not recorded), cut to `digits`
                    char[] frac = {(char) ('0' + millis / 100), (char) ('0' + millis / 10 % 10),
                        (char) ('0' + millis % 10), '0', '0', '0', '0', '0', '0'};
                    sb.append(frac, 0, p.digits);
                }
                default -> throw new IllegalStateException("directive " + p.directive);
            }
        }
        return sb.toString();
    }

    private static void pad(StringBuilder sb, int v, int width) {
        String s = Integer.toString(v);
        for (int i = s.length(); i < width; i++) {
            sb.append('0');
        }
        sb.append(s);
    }
}
