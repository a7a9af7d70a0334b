package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.http.HeaderMap;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Envoy's string, header and query-parameter matchers, compiled to predicates
 * ({@code source/common/common/matchers.cc}, {@code source/common/http/header_utility.cc}). Regexes are
 * RE2 in Envoy and {@link java.util.regex} here: the common syntax is the same, and every regex is a full
 * match. Immutable and thread-safe.
 */
final class Matchers {

    private Matchers() {
    }

    /** A compiled {@code RegexMatcher}. */
    static Pattern regex(RegexMatcher m, String path) {
        ConfigFields.check(m, path, Set.of("regex", "google_re2"), Set.of());
        try {
            return Pattern.compile(m.getRegex());
        } catch (PatternSyntaxException e) {
            throw ConfigException.at(path + ".regex", ConfigFields.quote(m.getRegex())
                    + " (expected: a valid regex: " + e.getDescription() + ")");
        }
    }

    /** A compiled {@code StringMatcher}. */
    static Predicate<String> string(StringMatcher m, String path) {
        ConfigFields.check(m, path, Set.of("exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"),
                Set.of());
        boolean ic = m.getIgnoreCase();
        switch (m.getMatchPatternCase()) {
            case EXACT -> {
                String v = m.getExact();
                return ic ? s -> s.equalsIgnoreCase(v) : v::equals;
            }
            case PREFIX -> {
                String v = m.getPrefix();
                if (v.isEmpty()) {
                    throw ConfigException.at(path + ".prefix", "\"\" (expected: non-empty)");
                }
                return ic ? s -> s.regionMatches(true, 0, v, 0, v.length()) : s -> s.startsWith(v);
            }
            case SUFFIX -> {
                String v = m.getSuffix();
                if (v.isEmpty()) {
                    throw ConfigException.at(path + ".suffix", "\"\" (expected: non-empty)");
                }
                return ic ? s -> s.length() >= v.length()
                        && s.regionMatches(true, s.length() - v.length(), v, 0, v.length()) : s -> s.endsWith(v);
            }
            case CONTAINS -> {
                String v = m.getContains();
                if (v.isEmpty()) {
                    throw ConfigException.at(path + ".contains", "\"\" (expected: non-empty)");
                }
                if (ic) {
                    String lower = v.toLowerCase(Locale.ROOT);
                    return s -> s.toLowerCase(Locale.ROOT).contains(lower);
                }
                return s -> s.contains(v);
            }
            case SAFE_REGEX -> {
                Pattern p = regex(m.getSafeRegex(), path + ".safe_regex");
                return s -> p.matcher(s).matches();
            }
            default -> throw ConfigException.at(path, "missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
        }
    }

    /** A compiled {@code HeaderMatcher}: a predicate over the request headers. */
    @SuppressWarnings("deprecation") // exact_match & co. are deprecated but still Envoy config
    static Predicate<HeaderMap> header(HeaderMatcher m, String path) {
        ConfigFields.check(m, path, Set.of("name", "exact_match", "safe_regex_match", "range_match", "present_match",
                "prefix_match", "suffix_match", "contains_match", "string_match", "invert_match",
                "treat_missing_header_as_empty"), Set.of());
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
                    throw ConfigException.at(path + ".range_match", "[" + start + ", " + end + ") (expected: start < end)");
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
            // No specifier: Envoy matches on presence.
            default -> s -> true;
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

    /** The values of {@code name} joined with {@code ,} (Envoy's {@code getAllOfHeaderAsString}), or {@code null}. */
    private static String joined(HeaderMap h, String name) {
        List<String> all = h.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }

    /** A compiled {@code QueryParameterMatcher}: a predicate over {@code :path}'s query. */
    static Predicate<String> queryParameter(QueryParameterMatcher m, String path) {
        ConfigFields.check(m, path, Set.of("name", "string_match", "present_match"), Set.of());
        String name = m.getName();
        if (name.isEmpty()) {
            throw ConfigException.at(path + ".name", "\"\" (expected: a query parameter name)");
        }
        return switch (m.getQueryParameterMatchSpecifierCase()) {
            case PRESENT_MATCH -> {
                boolean present = m.getPresentMatch();
                yield p -> (queryValue(p, name) != null) == present;
            }
            case STRING_MATCH -> {
                Predicate<String> value = string(m.getStringMatch(), path + ".string_match");
                yield p -> {
                    String v = queryValue(p, name);
                    return v != null && value.test(v);
                };
            }
            default -> p -> queryValue(p, name) != null;
        };
    }

    /**
     * The first value of query parameter {@code name} in {@code path} as written (not percent-decoded);
     * {@code ""} for a key without {@code =}; {@code null} when absent.
     */
    static String queryValue(String path, String name) {
        int q = path.indexOf('?');
        if (q < 0) {
            return null;
        }
        int end = path.indexOf('#', q);
        if (end < 0) {
            end = path.length();
        }
        int start = q + 1;
        while (start <= end) {
            int amp = path.indexOf('&', start);
            if (amp < 0 || amp > end) {
                amp = end;
            }
            int eq = path.indexOf('=', start);
            int keyEnd = eq >= 0 && eq < amp ? eq : amp;
            if (keyEnd - start == name.length() && path.startsWith(name, start)) {
                return keyEnd == amp ? "" : path.substring(keyEnd + 1, amp);
            }
            start = amp + 1;
        }
        return null;
    }
}
