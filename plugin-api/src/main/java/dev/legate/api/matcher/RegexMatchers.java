package dev.legate.api.matcher;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Set;

/**
 * Compiles Envoy's {@code envoy.type.matcher.v3.RegexMatcher} ({@code Regex::Utility::parseRegex},
 * {@code source/common/common/regex.cc}) to a {@link CompiledRegex}. Envoy runs RE2; so does Legate, through RE2/J
 * (Google's Java port): the same syntax (no backreferences, no lookaround: those are config errors, as in Envoy)
 * and the same linear-time matching. Envoy matches with {@code RE2::FullMatch}: use
 * {@link CompiledRegex#fullMatch(CharSequence)}. The deprecated {@code google_re2} field (and its
 * {@code max_program_size}) is accepted and has no effect.
 */
public final class RegexMatchers {

    private static final Set<String> HANDLED = Set.of("regex", "google_re2");

    private RegexMatchers() {
    }

    /**
     * Compiles {@code m}; main thread. The {@link CompiledRegex} is immutable and thread-safe.
     *
     * @param path where {@code m} sits, for errors, e.g. {@code route_config.virtual_hosts[0].routes[1].match.safe_regex}
     * @throws ConfigException {@code <path>.regex: "" (expected: a regex)} for an empty regex (Envoy's
     *                         {@code min_len: 1}), {@code <path>.regex: "(" (expected: a valid regex: missing closing ) at "(")}
     *                         for one RE2 does not accept (RE2/J's description, then the offending part),
     *                         {@code (expected: a valid regex: expression nests too deeply)} for one nested beyond
     *                         what RE2/J's parser can hold
     */
    public static CompiledRegex compile(RegexMatcher m, String path) {
        requireNonNull(m, "m");
        requireNonNull(path, "path");
        MatcherFields.check(m, path, HANDLED);
        String regex = m.getRegex();
        if (regex.isEmpty()) {
            throw ConfigException.at(path + ".regex", "\"\" (expected: a regex)");
        }
        try {
            return new CompiledRegex(Pattern.compile(regex));
        } catch (PatternSyntaxException e) {
            String at = e.getPattern() == null || e.getPattern().isEmpty()
                    ? "" : " at " + MatcherFields.quote(e.getPattern());
            throw ConfigException.at(path + ".regex", MatcherFields.quote(regex)
                    + " (expected: a valid regex: " + e.getDescription() + at + ")");
        } catch (StackOverflowError e) {
            // RE2/J's parser recurses on nesting (RE2 itself refuses more than 1,000 levels).
            throw ConfigException.at(path + ".regex", MatcherFields.quote(regex)
                    + " (expected: a valid regex: expression nests too deeply)");
        }
    }
}
