package dev.legate.api.matcher;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Compiles Envoy's {@code envoy.type.matcher.v3.StringMatcher} ({@code StringMatcherImpl},
 * {@code source/common/common/matchers.h}) to a {@code Predicate<String>}: {@code exact}, {@code prefix},
 * {@code suffix} and {@code contains}, each honouring {@code ignore_case} (ASCII letters only, as Envoy's
 * {@code absl::EqualsIgnoreCase}), and {@code safe_regex} (a full match, see {@link RegexMatchers}).
 * {@code custom} (an extension matcher) is refused.
 */
public final class StringMatchers {

    private static final Set<String> HANDLED =
            Set.of("exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case");

    private StringMatchers() {
    }

    /**
     * Compiles {@code m}; main thread. The predicate is immutable, thread-safe, does not allocate (except
     * {@code contains} with {@code ignore_case}) and never throws on a non-null value.
     *
     * @param path where {@code m} sits, for errors, e.g. {@code allow_origin_string_match[0]}
     * @throws ConfigException {@code <path>: missing (expected: one of exact, prefix, suffix, contains, safe_regex)};
     *                         {@code <path>.prefix: "" (expected: non-empty)} (also {@code suffix},
     *                         {@code contains}); {@code <path>.ignore_case: true (expected: false with safe_regex;
     *                         ...)}; {@code <path>.custom: not supported yet}; the errors of {@link RegexMatchers}
     *                         under {@code <path>.safe_regex}
     */
    public static Predicate<String> compile(StringMatcher m, String path) {
        requireNonNull(m, "m");
        requireNonNull(path, "path");
        MatcherFields.check(m, path, HANDLED);
        boolean ic = m.getIgnoreCase();
        return switch (m.getMatchPatternCase()) {
            case EXACT -> {
                String v = m.getExact();
                yield ic ? s -> s.length() == v.length() && regionMatchesIgnoreCase(s, 0, v) : v::equals;
            }
            case PREFIX -> {
                String v = MatcherFields.nonEmpty(m.getPrefix(), path + ".prefix");
                yield ic ? s -> regionMatchesIgnoreCase(s, 0, v) : s -> s.startsWith(v);
            }
            case SUFFIX -> {
                String v = MatcherFields.nonEmpty(m.getSuffix(), path + ".suffix");
                yield ic ? s -> regionMatchesIgnoreCase(s, s.length() - v.length(), v) : s -> s.endsWith(v);
            }
            case CONTAINS -> {
                String v = MatcherFields.nonEmpty(m.getContains(), path + ".contains");
                if (ic) {
                    String lower = toLowerAscii(v);
                    yield s -> toLowerAscii(s).contains(lower);
                }
                yield s -> s.contains(v);
            }
            case SAFE_REGEX -> {
                if (ic) {
                    throw ConfigException.at(path + ".ignore_case",
                            "true (expected: false with safe_regex; ignore_case has no effect for safe_regex)");
                }
                CompiledRegex p = RegexMatchers.compile(m.getSafeRegex(), path + ".safe_regex");
                yield p::fullMatch;
            }
            case CUSTOM -> throw ConfigException.at(path + ".custom", "not supported yet");
            default -> throw ConfigException.at(path,
                    "missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
        };
    }

    /** Whether {@code v} occurs in {@code s} at {@code offset}, ASCII letters compared without case. */
    private static boolean regionMatchesIgnoreCase(String s, int offset, String v) {
        if (offset < 0 || offset + v.length() > s.length()) {
            return false;
        }
        for (int i = 0; i < v.length(); i++) {
            char a = s.charAt(offset + i);
            char b = v.charAt(i);
            if (a != b && toLowerAscii(a) != toLowerAscii(b)) {
                return false;
            }
        }
        return true;
    }

    private static char toLowerAscii(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    /** {@code s} with ASCII upper-case letters lowered (Envoy's {@code absl::AsciiStrToLower}). */
    private static String toLowerAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] cs = s.toCharArray();
                for (int j = i; j < cs.length; j++) {
                    cs[j] = toLowerAscii(cs[j]);
                }
                return new String(cs);
            }
        }
        return s;
    }
}
