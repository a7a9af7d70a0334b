package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.matcher.CompiledRegex;
import dev.legate.api.matcher.RegexMatchers;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;

/**
 * A route's {@code prefix_rewrite} or {@code regex_rewrite} of {@code :path} (Envoy's
 * {@code currentUrlPathAfterRewrite}). A prefix rewrite replaces what the route's match consumed and keeps
 * the rest and the query; a regex rewrite replaces every match in the path without its query, then puts
 * the query back (RE2, linear time, see {@link CompiledRegex}). The substitution's {@code \1} references become
 * RE2/J's {@code $1}. Immutable.
 */
final class PathRewriter {

    private final String prefix;
    private final CompiledRegex pattern;
    private final String replacement;

    private PathRewriter(String prefix, CompiledRegex pattern, String replacement) {
        this.prefix = prefix;
        this.pattern = pattern;
        this.replacement = replacement;
    }

    static PathRewriter prefix(String prefixRewrite) {
        return new PathRewriter(prefixRewrite, null, null);
    }

    static PathRewriter regex(RegexMatchAndSubstitute r, String path) {
        CompiledRegex p = RegexMatchers.compile(r.getPattern(), path + ".pattern");
        return new PathRewriter(null, p, re2jReplacement(r.getSubstitution(), p, path + ".substitution"));
    }

    /**
     * The rewritten path.
     *
     * @param matchedLength how many leading characters the route's match consumed (for a prefix rewrite)
     */
    String rewrite(String path, int matchedLength) {
        if (prefix != null) {
            if (matchedLength > path.length()) {
                return path;
            }
            return prefix + path.substring(matchedLength);
        }
        int end = CompiledMatch.pathEnd(path);
        return pattern.replaceAll(path.subSequence(0, end), replacement) + path.substring(end);
    }

    /** RE2's {@code \N} and {@code \\} to RE2/J's {@code $N} and {@code \\}; a literal {@code $} escaped. */
    private static String re2jReplacement(String substitution, CompiledRegex p, String path) {
        int groups = p.groupCount();
        StringBuilder out = new StringBuilder(substitution.length() + 8);
        for (int i = 0; i < substitution.length(); i++) {
            char c = substitution.charAt(i);
            if (c == '\\' && i + 1 < substitution.length()) {
                char n = substitution.charAt(i + 1);
                if (n >= '0' && n <= '9') {
                    if (n - '0' > groups) {
                        throw ConfigException.at(path, ConfigFields.quote(substitution) + " (expected: \\" + n
                                + " to name one of the pattern's " + groups + " groups)");
                    }
                    out.append('$').append(n);
                    i++;
                    continue;
                }
                if (n == '\\') {
                    out.append("\\\\");
                    i++;
                    continue;
                }
                throw ConfigException.at(path, ConfigFields.quote(substitution)
                        + " (expected: \\ followed by a digit or \\)");
            }
            if (c == '$' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }
}
