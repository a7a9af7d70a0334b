package dev.legate.filters.http.fault;

import dev.legate.api.ConfigException;
import dev.legate.api.http.HeaderMap;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Envoy's {@code config.route.v3.HeaderMatcher}, compiled to a predicate over request headers
 * ({@code Http::HeaderUtility::matchHeaders}, source/common/http/header_utility.cc), for {@code HTTPFault.headers}.
 * Same semantics as the route table's matchers in the HTTP connection manager: a header with several values is
 * matched on the values joined with {@code ,}; no specifier means "present"; regexes are full matches
 * ({@link java.util.regex} for Envoy's RE2). Immutable and thread-safe; built on the main thread.
 */
final class HeaderMatchers {

    private HeaderMatchers() {
    }

    /**
     * Compiles {@code m}.
     *
     * @param path where {@code m} sits, for errors: {@code headers[0]}
     * @throws ConfigException naming the field that cannot be run
     */
    @SuppressWarnings("deprecation") // exact_match & co. are deprecated in Envoy but still valid config
    static Predicate<HeaderMap> compile(HeaderMatcher m, String path) {
        String name = m.getName().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
            throw ConfigException.at(path + ".name", "\"\" (expected: a header name)");
        }
        boolean invert = m.getInvertMatch();
        boolean missingAsEmpty = m.getTreatMissingHeaderAsEmpty();
        if (m.getHeaderMatchSpecifierCase() == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH) {
            boolean present = m.getPresentMatch();
            return h -> (h.contains(name) == present) != invert;
        }
        Predicate<String> value = switch (m.getHeaderMatchSpecifierCase()) {
            case EXACT_MATCH -> m.getExactMatch()::equals;
            case PREFIX_MATCH -> {
                String v = m.getPrefixMatch();
                yield s -> s.startsWith(v);
            }
            case SUFFIX_MATCH -> {
                String v = m.getSuffixMatch();
                yield s -> s.endsWith(v);
            }
            case CONTAINS_MATCH -> {
                String v = m.getContainsMatch();
                yield s -> s.contains(v);
            }
            case SAFE_REGEX_MATCH -> {
                Pattern p = regex(m.getSafeRegexMatch(), path + ".safe_regex_match");
                yield s -> p.matcher(s).matches();
            }
            case STRING_MATCH -> string(m.getStringMatch(), path + ".string_match");
            case RANGE_MATCH -> {
                long start = m.getRangeMatch().getStart();
                long end = m.getRangeMatch().getEnd();
                if (start >= end) {
                    throw ConfigException.at(path + ".range_match",
                            "[" + start + ", " + end + ") (expected: start < end)");
                }
                yield s -> {
                    try {
                        long v = Long.parseLong(s);
                        return v >= start && v < end;
                    } catch (NumberFormatException e) {
                        return false;
                    }
                };
            }
            default -> s -> true; // no specifier: the header must be present
        };
        return h -> {
            String v = joined(h, name);
            if (v == null) {
                if (!missingAsEmpty) {
                    return false;
                }
                v = "";
            }
            return value.test(v) != invert;
        };
    }

    private static Pattern regex(RegexMatcher m, String path) {
        try {
            return Pattern.compile(m.getRegex());
        } catch (PatternSyntaxException e) {
            throw ConfigException.at(path + ".regex", quote(m.getRegex())
                    + " (expected: a valid regex: " + e.getDescription() + ")");
        }
    }

    private static Predicate<String> string(StringMatcher m, String path) {
        boolean ic = m.getIgnoreCase();
        return switch (m.getMatchPatternCase()) {
            case EXACT -> {
                String v = m.getExact();
                yield ic ? s -> s.equalsIgnoreCase(v) : v::equals;
            }
            case PREFIX -> {
                String v = nonEmpty(m.getPrefix(), path + ".prefix");
                yield ic ? s -> s.regionMatches(true, 0, v, 0, v.length()) : s -> s.startsWith(v);
            }
            case SUFFIX -> {
                String v = nonEmpty(m.getSuffix(), path + ".suffix");
                yield ic ? s -> s.length() >= v.length()
                        && s.regionMatches(true, s.length() - v.length(), v, 0, v.length()) : s -> s.endsWith(v);
            }
            case CONTAINS -> {
                String v = nonEmpty(m.getContains(), path + ".contains");
                if (ic) {
                    String lower = v.toLowerCase(Locale.ROOT);
                    yield s -> s.toLowerCase(Locale.ROOT).contains(lower);
                }
                yield s -> s.contains(v);
            }
            case SAFE_REGEX -> {
                Pattern p = regex(m.getSafeRegex(), path + ".safe_regex");
                yield s -> p.matcher(s).matches();
            }
            case CUSTOM -> throw ConfigException.at(path + ".custom", "not supported yet");
            default -> throw ConfigException.at(path,
                    "missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
        };
    }

    private static String nonEmpty(String v, String path) {
        if (v.isEmpty()) {
            throw ConfigException.at(path, "\"\" (expected: non-empty)");
        }
        return v;
    }

    /** The values of {@code name} joined with {@code ,} (Envoy's {@code getAllOfHeaderAsString}), or {@code null}. */
    private static String joined(HeaderMap h, String name) {
        List<String> all = h.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }

    static String quote(String value) {
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
