package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.matcher.CompiledRegex;
import dev.legate.api.matcher.HeaderMatchers;
import dev.legate.api.matcher.RegexMatchers;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A compiled {@code RouteMatch} (Envoy's {@code RouteEntryImplBase::matchRoute} and its prefix, path,
 * regex and path-separated-prefix subclasses): the path specifier, {@code case_sensitive},
 * {@code headers}, {@code query_parameters}, {@code runtime_fraction} (its {@code default_value}; there
 * is no runtime) and {@code grpc} (only gRPC requests: Envoy's {@code Grpc::Common::isGrpcRequestHeaders}).
 * All criteria must hold. Immutable; thread-safe.
 */
final class CompiledMatch {

    private static final Logger logger = LoggerFactory.getLogger(CompiledMatch.class);

    private static final Set<String> HANDLED = Set.of("prefix", "path", "safe_regex", "path_separated_prefix",
            "case_sensitive", "headers", "query_parameters", "runtime_fraction", "grpc");

    enum Kind { PREFIX, PATH, REGEX, PATH_SEPARATED_PREFIX }

    private final Kind kind;
    private final String value;
    private final CompiledRegex regex;
    private final boolean caseSensitive;
    private final List<Predicate<HeaderMap>> headers;
    private final List<Predicate<String>> queryParameters;
    /** {@code grpc}: only requests with a gRPC {@code content-type} match. */
    private final boolean grpc;
    /** Out of 1,000,000; -1 when no {@code runtime_fraction}. */
    private final long fractionPerMillion;

    private CompiledMatch(RouteMatch m, String path) {
        ConfigFields.check(m, path, HANDLED, Set.of());
        caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
        grpc = m.hasGrpc();
        switch (m.getPathSpecifierCase()) {
            case PREFIX -> {
                kind = Kind.PREFIX;
                value = m.getPrefix();
                regex = null;
            }
            case PATH -> {
                kind = Kind.PATH;
                value = m.getPath();
                regex = null;
            }
            case SAFE_REGEX -> {
                kind = Kind.REGEX;
                value = null;
                regex = RegexMatchers.compile(m.getSafeRegex(), path + ".safe_regex");
            }
            case PATH_SEPARATED_PREFIX -> {
                kind = Kind.PATH_SEPARATED_PREFIX;
                value = m.getPathSeparatedPrefix();
                regex = null;
                if (value.isEmpty() || value.indexOf('?') >= 0 || value.indexOf('#') >= 0 || value.endsWith("/")) {
                    throw ConfigException.at(path + ".path_separated_prefix", ConfigFields.quote(value)
                            + " (expected: non-empty, without ? or #, not ending in /)");
                }
            }
            default -> throw ConfigException.at(path, "missing path specifier (expected: one of prefix, path, "
                    + "safe_regex, path_separated_prefix)");
        }
        List<Predicate<HeaderMap>> hs = new ArrayList<>();
        for (int i = 0; i < m.getHeadersCount(); i++) {
            hs.add(HeaderMatchers.compile(m.getHeaders(i), path + ".headers[" + i + "]"));
        }
        headers = List.copyOf(hs);
        List<Predicate<String>> qs = new ArrayList<>();
        for (int i = 0; i < m.getQueryParametersCount(); i++) {
            qs.add(QueryParameterMatchers.compile(m.getQueryParameters(i), path + ".query_parameters[" + i + "]"));
        }
        queryParameters = List.copyOf(qs);
        if (m.hasRuntimeFraction()) {
            FractionalPercent fp = m.getRuntimeFraction().getDefaultValue();
            long denominator = switch (fp.getDenominator()) {
                case HUNDRED -> 100;
                case TEN_THOUSAND -> 10_000;
                case MILLION -> 1_000_000;
                default -> throw ConfigException.at(path + ".runtime_fraction.default_value.denominator", "unknown value");
            };
            fractionPerMillion = Math.min(1_000_000, fp.getNumerator() * (1_000_000 / denominator));
            if (!m.getRuntimeFraction().getRuntimeKey().isEmpty()) {
                logger.warn("{}.runtime_fraction.runtime_key: there is no runtime; the default_value {}/{} applies",
                        path, fp.getNumerator(), denominator);
            }
        } else {
            fractionPerMillion = -1;
        }
    }

    static CompiledMatch compile(RouteMatch m, String path) {
        return new CompiledMatch(m, path);
    }

    Kind kind() {
        return kind;
    }

    boolean caseSensitive() {
        return caseSensitive;
    }

    /** Whether the request matches. {@code path} is {@code :path} (never {@code null}). */
    boolean matches(HeaderMap requestHeaders, String path) {
        if (!matchesPath(path)) {
            return false;
        }
        if (grpc && !GrpcCommon.isGrpcRequest(requestHeaders)) {
            return false;
        }
        for (int i = 0; i < headers.size(); i++) {
            if (!headers.get(i).test(requestHeaders)) {
                return false;
            }
        }
        for (int i = 0; i < queryParameters.size(); i++) {
            if (!queryParameters.get(i).test(path)) {
                return false;
            }
        }
        return fractionPerMillion < 0 || ThreadLocalRandom.current().nextLong(1_000_000) < fractionPerMillion;
    }

    private boolean matchesPath(String path) {
        switch (kind) {
            case PREFIX:
                return path.regionMatches(!caseSensitive, 0, value, 0, value.length());
            case PATH: {
                int end = pathEnd(path);
                return end == value.length() && path.regionMatches(!caseSensitive, 0, value, 0, end);
            }
            case REGEX:
                return regex.fullMatch(path.subSequence(0, pathEnd(path)));
            case PATH_SEPARATED_PREFIX: {
                int end = pathEnd(path);
                if (end < value.length() || !path.regionMatches(!caseSensitive, 0, value, 0, value.length())) {
                    return false;
                }
                return end == value.length() || path.charAt(value.length()) == '/';
            }
            default:
                return false;
        }
    }

    /**
     * How many leading characters of {@code path} the match consumed, for {@code prefix_rewrite}: the prefix,
     * or the whole path without its query for {@code path} and {@code safe_regex}.
     */
    int matchedLength(String path) {
        return switch (kind) {
            case PREFIX, PATH_SEPARATED_PREFIX -> value.length();
            case PATH, REGEX -> pathEnd(path);
        };
    }

    /** The end of the path part of {@code :path}: the index of {@code ?} or {@code #}, or its length. */
    static int pathEnd(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return path.length();
    }
}
