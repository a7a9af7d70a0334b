package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.matcher.StringMatchers;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Envoy's {@code config.route.v3.QueryParameterMatcher}, compiled to a predicate over {@code :path}
 * ({@code ConfigUtility::QueryParameterMatcher}, {@code source/common/router/config_utility.cc}); its
 * {@code string_match} is plugin-api's {@link StringMatchers}. Immutable and thread-safe.
 */
final class QueryParameterMatchers {

    private QueryParameterMatchers() {
    }

    /** A compiled {@code QueryParameterMatcher}: a predicate over {@code :path}'s query. */
    static Predicate<String> compile(QueryParameterMatcher m, String path) {
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
                Predicate<String> value = StringMatchers.compile(m.getStringMatch(), path + ".string_match");
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
