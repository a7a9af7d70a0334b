package dev.legate.api.matcher;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles Envoy's {@code envoy.type.matcher.v3.RegexMatcher} ({@code Regex::Utility::parseRegex},
 * {@code source/common/common/regex.cc}) to a {@link Pattern}. Envoy runs RE2; Legate runs {@link java.util.regex}
 * (see the {@linkplain dev.legate.api.matcher package} notes). Envoy matches with {@code RE2::FullMatch}: use
 * {@code pattern.matcher(s).matches()}. The deprecated {@code google_re2} field is accepted and has no effect.
 */
public final class RegexMatchers {

    private static final Set<String> HANDLED = Set.of("regex", "google_re2");

    private RegexMatchers() {
    }

    /**
     * Compiles {@code m}; main thread. The {@link Pattern} is immutable and thread-safe.
     *
     * @param path where {@code m} sits, for errors, e.g. {@code route_config.virtual_hosts[0].routes[1].match.safe_regex}
     * @throws ConfigException {@code <path>.regex: "" (expected: a regex)} for an empty regex (Envoy's
     *                         {@code min_len: 1}), {@code <path>.regex: "(" (expected: a valid regex: Unclosed group)}
     *                         for one that does not compile
     */
    public static Pattern compile(RegexMatcher m, String path) {
        requireNonNull(m, "m");
        requireNonNull(path, "path");
        MatcherFields.check(m, path, HANDLED);
        String regex = m.getRegex();
        if (regex.isEmpty()) {
            throw ConfigException.at(path + ".regex", "\"\" (expected: a regex)");
        }
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw ConfigException.at(path + ".regex", MatcherFields.quote(regex)
                    + " (expected: a valid regex: " + e.getDescription() + ")");
        }
    }
}
