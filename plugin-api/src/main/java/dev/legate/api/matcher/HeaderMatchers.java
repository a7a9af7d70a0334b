package dev.legate.api.matcher;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.http.HeaderMap;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Compiles Envoy's {@code envoy.config.route.v3.HeaderMatcher} to a {@code Predicate<HeaderMap>}
 * ({@code HeaderUtility::HeaderData} and {@code HeaderUtility::matchHeaders},
 * {@code source/common/http/header_utility.cc}), as route matches, {@code HTTPFault.headers} and others use it:
 * <ul>
 *   <li>the header's values are matched joined with {@code ,} ({@code getAllOfHeaderAsString});</li>
 *   <li>{@code string_match} ({@link StringMatchers}); the deprecated {@code exact_match} (an empty one matches any
 *       value), {@code prefix_match}, {@code suffix_match}, {@code contains_match}, {@code safe_regex_match} (a full
 *       match); {@code range_match} ({@code [start, end)}, the whole value a base-10 {@code int64});
 *       {@code present_match}; no specifier at all means {@code present_match: true};</li>
 *   <li>a missing header matches only a presence matcher that wants it absent ({@code present_match: false}, or
 *       inverted {@code present_match: true} or no specifier); every other matcher fails, inverted or not. With
 *       {@code treat_missing_header_as_empty} a missing header is matched as {@code ""} instead (a presence
 *       matcher then answers its own {@code present_match}, inverted by {@code invert_match});</li>
 *   <li>{@code invert_match} negates the result for a header that is there (or treated as empty).</li>
 * </ul>
 */
public final class HeaderMatchers {

    private static final Set<String> HANDLED = Set.of("name", "exact_match", "safe_regex_match", "range_match",
            "present_match", "prefix_match", "suffix_match", "contains_match", "string_match", "invert_match",
            "treat_missing_header_as_empty");

    private HeaderMatchers() {
    }

    /**
     * Compiles {@code m}; main thread. The predicate is immutable and thread-safe, runs on any event loop and never
     * throws; it reads the header under {@code name} lower-cased (header maps hold lower-case names).
     *
     * @param path where {@code m} sits, for errors, e.g. {@code headers[0]}
     * @throws ConfigException {@code <path>.name: "" (expected: a header name)};
     *                         {@code <path>.range_match: [5, 5) (expected: start < end)};
     *                         {@code <path>.prefix_match: "" (expected: non-empty)} (also {@code suffix_match},
     *                         {@code contains_match}); the errors of {@link StringMatchers} under
     *                         {@code <path>.string_match} and of {@link RegexMatchers} under
     *                         {@code <path>.safe_regex_match}; {@code <path>.<field>: not supported yet} for a field
     *                         of a newer API
     */
    @SuppressWarnings("deprecation") // exact_match & co. are deprecated in Envoy but still valid config
    public static Predicate<HeaderMap> compile(HeaderMatcher m, String path) {
        requireNonNull(m, "m");
        requireNonNull(path, "path");
        MatcherFields.check(m, path, HANDLED);
        String name = m.getName().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
            throw ConfigException.at(MatcherFields.join(path, "name"), "\"\" (expected: a header name)");
        }
        HeaderMatcher.HeaderMatchSpecifierCase spec = m.getHeaderMatchSpecifierCase();
        boolean presenceMatcher = spec == HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH
                || spec == HeaderMatcher.HeaderMatchSpecifierCase.HEADERMATCHSPECIFIER_NOT_SET;
        // No specifier is present_match: true.
        boolean present = spec != HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH || m.getPresentMatch();
        Predicate<String> value = switch (spec) {
            case EXACT_MATCH -> {
                String v = m.getExactMatch();
                yield v.isEmpty() ? s -> true : v::equals;
            }
            case PREFIX_MATCH -> {
                String v = MatcherFields.nonEmpty(m.getPrefixMatch(), path + ".prefix_match");
                yield s -> s.startsWith(v);
            }
            case SUFFIX_MATCH -> {
                String v = MatcherFields.nonEmpty(m.getSuffixMatch(), path + ".suffix_match");
                yield s -> s.endsWith(v);
            }
            case CONTAINS_MATCH -> {
                String v = MatcherFields.nonEmpty(m.getContainsMatch(), path + ".contains_match");
                yield s -> s.contains(v);
            }
            case SAFE_REGEX_MATCH -> {
                CompiledRegex p = RegexMatchers.compile(m.getSafeRegexMatch(), path + ".safe_regex_match");
                yield p::fullMatch;
            }
            case STRING_MATCH -> StringMatchers.compile(m.getStringMatch(), path + ".string_match");
            case RANGE_MATCH -> {
                long start = m.getRangeMatch().getStart();
                long end = m.getRangeMatch().getEnd();
                if (start >= end) {
                    throw ConfigException.at(path + ".range_match",
                            "[" + start + ", " + end + ") (expected: start < end)");
                }
                yield s -> inRange(s, start, end);
            }
            default -> s -> present; // present_match, or no specifier (present_match: true)
        };
        boolean invert = m.getInvertMatch();
        boolean missingAsEmpty = m.getTreatMissingHeaderAsEmpty();
        boolean whenMissing = presenceMatcher && present == invert;
        return h -> {
            String v = joinedValues(h, name);
            if (v == null) {
                if (!missingAsEmpty) {
                    return whenMissing;
                }
                v = "";
            }
            return value.test(v) != invert;
        };
    }

    /**
     * The values of header {@code name} joined with {@code ,} (Envoy's {@code getAllOfHeaderAsString}), or
     * {@code null} when there is none. Allocates only for several values.
     */
    private static String joinedValues(HeaderMap headers, String name) {
        List<String> all = headers.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }

    /** Whether {@code s} is a base-10 {@code int64} in {@code [start, end)}. */
    private static boolean inRange(String s, long start, long end) {
        try {
            long v = Long.parseLong(s);
            return v >= start && v < end;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
