package dev.legate.api.matcher;

import static java.util.Objects.requireNonNull;

import com.google.re2j.Pattern;

/**
 * A compiled {@code safe_regex}: an RE2 pattern run by RE2/J ({@code com.google.re2j}, Google's Java port of RE2),
 * as Envoy runs its {@code safe_regex} with RE2 ({@code source/common/common/regex.cc}). Matching takes time
 * linear in the input and neither recurses nor backtracks, so a request-controlled string (a path, a header, an
 * {@code Origin}) cannot stall an event loop or overflow its stack. Get one from
 * {@link RegexMatchers#compile(io.envoyproxy.envoy.type.matcher.v3.RegexMatcher, String)}.
 *
 * <p>Immutable and thread-safe: compiled on the main thread, used on any event loop. Matching never throws on a
 * non-null input; {@link #replaceAll} throws {@link IllegalArgumentException} or
 * {@link IndexOutOfBoundsException} for a replacement that names a group the pattern does not have, so check a
 * configured replacement at load (as the HCM's {@code regex_rewrite} does).
 */
public final class CompiledRegex {

    private final Pattern pattern;

    CompiledRegex(Pattern pattern) {
        this.pattern = requireNonNull(pattern, "pattern");
    }

    /**
     * Whether the whole of {@code s} matches (Envoy's {@code RE2::FullMatch}); any event loop, allocates a matcher.
     */
    public boolean fullMatch(CharSequence s) {
        requireNonNull(s, "s");
        return pattern.matcher(s).matches();
    }

    /**
     * {@code s} with every non-overlapping match replaced (Envoy's {@code RE2::GlobalReplace}, used by
     * {@code regex_rewrite}); any event loop.
     *
     * @param replacement in {@link java.util.regex.Matcher#replaceAll(String)}'s syntax, which RE2/J shares:
     *                    {@code $N} is group {@code N}, {@code \$} a literal {@code $}, {@code \\} a literal
     *                    {@code \}; its group references must be within {@link #groupCount()} (checked when the
     *                    config is compiled, so the data path does not throw)
     */
    public String replaceAll(CharSequence s, String replacement) {
        requireNonNull(s, "s");
        requireNonNull(replacement, "replacement");
        return pattern.matcher(s).replaceAll(replacement);
    }

    /** How many capturing groups the pattern has. */
    public int groupCount() {
        return pattern.groupCount();
    }

    /** The regex as written in the config. */
    public String pattern() {
        return pattern.pattern();
    }

    @Override
    public String toString() {
        return pattern.pattern();
    }
}
