package dev.legate.filters.http.cors;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.Route;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compiled config of one {@code envoy.filters.http.cors} entry of {@code http_filters}: its stats and the
 * CORS policies it has compiled. Shared by every event loop; thread-safe.
 *
 * <p>The filter's own config ({@code envoy.extensions.filters.http.cors.v3.Cors}) has no fields. The policies
 * live in the route configuration, as in Envoy: {@code typed_per_filter_config["envoy.filters.http.cors"]}
 * ({@code envoy.extensions.filters.http.cors.v3.CorsPolicy}) on a route, virtual host, route configuration or
 * weighted cluster, or the deprecated {@code cors} field ({@code envoy.config.route.v3.CorsPolicy}) of a virtual
 * host or a route's {@code route} action. {@link #policies} finds them for a request, most specific first
 * (Envoy's {@code CorsFilter::initializeCorsPolicies}), and compiles each policy message once: compiled
 * policies are kept by message (protobuf messages are immutable, their hash is memoized and equality starts
 * with identity), so a request costs hash lookups, not regex compilations.
 *
 * <p>The host binds a per-route {@code CorsPolicy} with no hook for the filter to compile it, so a policy is
 * compiled when a request first uses it; a policy that does not compile (an invalid regex, an unsupported
 * matcher) is logged at ERROR once and makes the filter leave that request alone.
 */
final class CorsSettings {

    private static final Logger logger = LoggerFactory.getLogger(CorsSettings.class);

    private static final String FILTER_CONFIG_TYPE = "type.googleapis.com/" + FilterConfig.getDescriptor().getFullName();
    private static final String CORS_POLICY_NAME = CorsPolicy.getDescriptor().getFullName();
    private static final String XDS_TYPED_STRUCT = "xds.type.v3.TypedStruct";
    private static final String UDPA_TYPED_STRUCT = "udpa.type.v1.TypedStruct";

    /** Beyond this many compiled policies (config reloads keep bringing new ones) the cache starts over. */
    static final int MAX_CACHED_POLICIES = 4096;

    private static final Policy[] NONE = new Policy[0];

    private final CorsStats stats;
    private final ConcurrentHashMap<Message, Policy> compiled = new ConcurrentHashMap<>();

    private CorsSettings(CorsStats stats) {
        this.stats = requireNonNull(stats, "stats");
    }

    /**
     * Binds the filter config, once per listener, on the main thread.
     *
     * @param context the HCM's context, whose {@code stats()} is scoped to {@code http.<stat_prefix>.}
     */
    static CorsSettings from(Cors config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        return new CorsSettings(new CorsStats(context.stats()));
    }

    CorsStats stats() {
        return stats;
    }

    /**
     * The CORS policies that apply to a request on {@code route}, most specific first, as Envoy orders them: the
     * {@code typed_per_filter_config} policies (weighted cluster, route, virtual host, route configuration) when
     * there is at least one; otherwise the deprecated {@code cors} of the route's action, then of the virtual
     * host. Empty when none applies; {@code null} when one of them does not compile (logged once).
     *
     * <p>Legate's {@code Route} gives the most specific bound policy ({@code mostSpecific}) and the route and
     * virtual host protos; a route configuration-level policy is therefore seen only when no route or virtual
     * host policy exists. A level seen twice (the most specific one is also the route's) changes nothing: each
     * field comes from the first policy that sets it.
     *
     * @param mostSpecific the policy {@code callbacks.perRouteConfig(CorsPolicy.class)} gives, or {@code null}
     */
    Policy[] policies(Route route, CorsPolicy mostSpecific) {
        if (mostSpecific != null) {
            Policy first = policy(mostSpecific, route, Level.MOST_SPECIFIC);
            Any routeAny = route.config().getTypedPerFilterConfigOrDefault(CorsFilterFactory.NAME, null);
            Any vhostAny = route.virtualHost().getTypedPerFilterConfigOrDefault(CorsFilterFactory.NAME, null);
            Policy onRoute = routeAny == null ? null : policy(routeAny, route, Level.ROUTE);
            Policy onVhost = vhostAny == null ? null : policy(vhostAny, route, Level.VIRTUAL_HOST);
            if (onRoute == Policy.ABSENT) {
                onRoute = null;
            }
            if (onVhost == Policy.ABSENT) {
                onVhost = null;
            }
            Policy[] out = new Policy[1 + (onRoute != null ? 1 : 0) + (onVhost != null ? 1 : 0)];
            int i = 0;
            out[i++] = first;
            if (onRoute != null) {
                out[i++] = onRoute;
            }
            if (onVhost != null) {
                out[i] = onVhost;
            }
            return valid(out);
        }
        io.envoyproxy.envoy.config.route.v3.Route rc = route.config();
        boolean onRoute = rc.hasRoute() && rc.getRoute().hasCors();
        boolean onVhost = route.virtualHost().hasCors();
        if (!onRoute && !onVhost) {
            return NONE;
        }
        Policy[] out = new Policy[(onRoute ? 1 : 0) + (onVhost ? 1 : 0)];
        int i = 0;
        if (onRoute) {
            out[i++] = policy(rc.getRoute().getCors(), route, Level.ROUTE_CORS);
        }
        if (onVhost) {
            out[i] = policy(route.virtualHost().getCors(), route, Level.VIRTUAL_HOST_CORS);
        }
        return valid(out);
    }

    private static Policy[] valid(Policy[] policies) {
        for (Policy p : policies) {
            if (p.error != null) {
                return null;
            }
        }
        return policies;
    }

    /** Where a policy message sits, for the log line of one that does not compile. */
    private enum Level {
        MOST_SPECIFIC, ROUTE, VIRTUAL_HOST, ROUTE_CORS, VIRTUAL_HOST_CORS;

        String describe(Route route) {
            String perFilter = "typed_per_filter_config[\"" + CorsFilterFactory.NAME + "\"]";
            return switch (this) {
                case MOST_SPECIFIC -> "the most specific " + perFilter + " of route " + quote(route.name());
                case ROUTE -> "route " + quote(route.name()) + " " + perFilter;
                case VIRTUAL_HOST -> "virtual host " + quote(route.virtualHost().getName()) + " " + perFilter;
                case ROUTE_CORS -> "route " + quote(route.name()) + " route.cors";
                case VIRTUAL_HOST_CORS -> "virtual host " + quote(route.virtualHost().getName()) + " cors";
            };
        }
    }

    /**
     * The compiled policy of {@code key} (a {@code CorsPolicy}, a {@code typed_per_filter_config} {@code Any}, or
     * a deprecated {@code route.v3.CorsPolicy}): from the cache, or compiled now and cached; {@link Policy#ABSENT}
     * for an {@code Any} the host skipped, an invalid policy (logged) for one that does not compile.
     */
    private Policy policy(Message key, Route route, Level level) {
        Policy p = compiled.get(key);
        if (p != null) {
            return p;
        }
        try {
            if (key instanceof CorsPolicy cp) {
                p = Policy.compile(cp, "");
            } else if (key instanceof Any any) {
                CorsPolicy cp = unpack(any);
                p = cp == null ? Policy.ABSENT : Policy.compile(cp, "");
            } else {
                p = Policy.compile((io.envoyproxy.envoy.config.route.v3.CorsPolicy) key, "");
            }
        } catch (ConfigException e) {
            logger.error("{}: CORS policy not applied to requests: {}", level.describe(route), e.getMessage());
            p = Policy.invalid(e.getMessage());
        }
        if (compiled.size() >= MAX_CACHED_POLICIES) {
            compiled.clear();
        }
        Policy raced = compiled.putIfAbsent(key, p);
        return raced != null ? raced : p;
    }

    /**
     * The {@code CorsPolicy} in a {@code typed_per_filter_config} value: the message itself, inside a
     * {@code config.route.v3.FilterConfig}, or a {@code TypedStruct}; {@code null} for what the host would not
     * have bound (an optional entry it skipped).
     */
    static CorsPolicy unpack(Any any) {
        try {
            if (FILTER_CONFIG_TYPE.equals(any.getTypeUrl())) {
                FilterConfig fc = any.unpack(FilterConfig.class);
                CorsPolicy inner = fc.hasConfig() ? unpack(fc.getConfig()) : null;
                if (inner == null && !fc.getIsOptional()) {
                    throw ConfigException.at("config", "not a " + CORS_POLICY_NAME);
                }
                return inner;
            }
            String name = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
            if (name.equals(CORS_POLICY_NAME)) {
                return CorsPolicy.parseFrom(any.getValue());
            }
            com.google.protobuf.Struct value;
            String inner;
            if (name.equals(XDS_TYPED_STRUCT)) {
                com.github.xds.type.v3.TypedStruct ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
                inner = ts.getTypeUrl();
                value = ts.getValue();
            } else if (name.equals(UDPA_TYPED_STRUCT)) {
                com.github.udpa.udpa.type.v1.TypedStruct ts = any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
                inner = ts.getTypeUrl();
                value = ts.getValue();
            } else {
                return null;
            }
            if (!inner.substring(inner.lastIndexOf('/') + 1).equals(CORS_POLICY_NAME)) {
                return null;
            }
            CorsPolicy.Builder b = CorsPolicy.newBuilder();
            JsonFormat.parser().merge(JsonFormat.printer().print(value), b);
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }

    private static String quote(String s) {
        return '"' + s.replace("\"", "\\\"") + '"';
    }

    /**
     * One compiled CORS policy (Envoy's {@code CorsPolicyImplBase}, {@code source/common/router/config_impl.h}):
     * every field is optional, so that a field left unset at one level can come from a less specific one.
     * Immutable; thread-safe.
     *
     * @param allowOrigins                 {@code allow_origin_string_match}, compiled; empty when unset
     * @param allowMethods                 {@code allow_methods}; {@code ""} when unset
     * @param allowHeaders                 {@code allow_headers}; {@code ""} when unset
     * @param exposeHeaders                {@code expose_headers}; {@code ""} when unset
     * @param maxAge                       {@code max_age}; {@code ""} when unset
     * @param allowCredentials             {@code allow_credentials}; {@code null} when unset
     * @param allowPrivateNetworkAccess    {@code allow_private_network_access}; {@code null} when unset
     * @param forwardNotMatchingPreflights {@code forward_not_matching_preflights}; {@code null} when unset
     * @param filterEnabled                {@code filter_enabled}; {@code null} when unset (enabled)
     * @param shadowEnabled                {@code shadow_enabled}; {@code null} when unset (off)
     * @param error                        why the policy did not compile, or {@code null}
     */
    record Policy(List<Predicate<String>> allowOrigins, String allowMethods, String allowHeaders,
                  String exposeHeaders, String maxAge, Boolean allowCredentials, Boolean allowPrivateNetworkAccess,
                  Boolean forwardNotMatchingPreflights, Fraction filterEnabled, Fraction shadowEnabled, String error) {

        /** Marks an optional entry the host skipped, in the cache (which takes no nulls). */
        static final Policy ABSENT = invalid("absent");

        Policy {
            allowOrigins = List.copyOf(allowOrigins);
        }

        static Policy invalid(String error) {
            return new Policy(List.of(), "", "", "", "", null, null, null, null, null, error);
        }

        /**
         * Whether {@code origin} is allowed by {@code allow_origin_string_match}: a matcher that matches it, or
         * one that matches the literal {@code *} (Envoy's {@code CorsFilter::isOriginAllowed}).
         */
        boolean allowsOrigin(String origin) {
            for (Predicate<String> m : allowOrigins) {
                if (m.test("*") || m.test(origin)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether {@code filter_enabled} samples on for one request; {@code true} when unset. */
        boolean drawEnabled() {
            return filterEnabled == null || filterEnabled.sample();
        }

        /** Whether {@code shadow_enabled} samples on for one request; {@code false} when unset. */
        boolean drawShadowEnabled() {
            return shadowEnabled != null && shadowEnabled.sample();
        }

        /**
         * Compiles an {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}.
         *
         * @param path where the message sits, for errors ({@code ""} names its fields only)
         * @throws ConfigException naming the field that Legate cannot run
         */
        static Policy compile(CorsPolicy p, String path) {
            requireNonNull(p, "p");
            return compile(p.getAllowOriginStringMatchList(), p.getAllowMethods(), p.getAllowHeaders(),
                    p.getExposeHeaders(), p.getMaxAge(), p.hasAllowCredentials() ? p.getAllowCredentials() : null,
                    p.hasAllowPrivateNetworkAccess() ? p.getAllowPrivateNetworkAccess() : null,
                    p.hasForwardNotMatchingPreflights() ? p.getForwardNotMatchingPreflights() : null,
                    p.hasFilterEnabled() ? p.getFilterEnabled() : null,
                    p.hasShadowEnabled() ? p.getShadowEnabled() : null, path);
        }

        /**
         * Compiles the deprecated {@code envoy.config.route.v3.CorsPolicy} of a virtual host's or route action's
         * {@code cors} field; same fields, same meaning.
         */
        static Policy compile(io.envoyproxy.envoy.config.route.v3.CorsPolicy p, String path) {
            requireNonNull(p, "p");
            return compile(p.getAllowOriginStringMatchList(), p.getAllowMethods(), p.getAllowHeaders(),
                    p.getExposeHeaders(), p.getMaxAge(), p.hasAllowCredentials() ? p.getAllowCredentials() : null,
                    p.hasAllowPrivateNetworkAccess() ? p.getAllowPrivateNetworkAccess() : null,
                    p.hasForwardNotMatchingPreflights() ? p.getForwardNotMatchingPreflights() : null,
                    p.hasFilterEnabled() ? p.getFilterEnabled() : null,
                    p.hasShadowEnabled() ? p.getShadowEnabled() : null, path);
        }

        private static Policy compile(List<StringMatcher> origins, String methods, String headers, String expose,
                                      String maxAge, BoolValue credentials, BoolValue privateNetwork,
                                      BoolValue forward, RuntimeFractionalPercent enabled,
                                      RuntimeFractionalPercent shadow, String path) {
            List<Predicate<String>> matchers = new ArrayList<>(origins.size());
            for (int i = 0; i < origins.size(); i++) {
                matchers.add(stringMatcher(origins.get(i), join(path, "allow_origin_string_match[" + i + "]")));
            }
            return new Policy(matchers,
                    headerValue(methods, join(path, "allow_methods")),
                    headerValue(headers, join(path, "allow_headers")),
                    headerValue(expose, join(path, "expose_headers")),
                    headerValue(maxAge, join(path, "max_age")),
                    credentials == null ? null : credentials.getValue(),
                    privateNetwork == null ? null : privateNetwork.getValue(),
                    forward == null ? null : forward.getValue(),
                    enabled == null ? null : Fraction.of(enabled, join(path, "filter_enabled")),
                    shadow == null ? null : Fraction.of(shadow, join(path, "shadow_enabled")),
                    null);
        }

        /** A value written into a response header as is: no CR, LF or NUL. */
        private static String headerValue(String value, String path) {
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '\r' || c == '\n' || c == 0) {
                    throw ConfigException.at(path, quoteEscaped(value) + " (expected: no CR, LF or NUL)");
                }
            }
            return value;
        }

        /**
         * Envoy's {@code StringMatcherImpl} ({@code source/common/common/matchers.h}): {@code exact},
         * {@code prefix}, {@code suffix}, {@code contains} (each honouring {@code ignore_case}) and
         * {@code safe_regex} (a full match; {@link java.util.regex} in place of RE2, as in Legate's route
         * matchers). {@code custom} is refused.
         */
        static Predicate<String> stringMatcher(StringMatcher m, String path) {
            boolean ic = m.getIgnoreCase();
            switch (m.getMatchPatternCase()) {
                case EXACT -> {
                    String v = m.getExact();
                    return ic ? s -> s.equalsIgnoreCase(v) : v::equals;
                }
                case PREFIX -> {
                    String v = nonEmpty(m.getPrefix(), path + ".prefix");
                    return ic ? s -> s.regionMatches(true, 0, v, 0, v.length()) : s -> s.startsWith(v);
                }
                case SUFFIX -> {
                    String v = nonEmpty(m.getSuffix(), path + ".suffix");
                    return ic ? s -> s.length() >= v.length()
                            && s.regionMatches(true, s.length() - v.length(), v, 0, v.length()) : s -> s.endsWith(v);
                }
                case CONTAINS -> {
                    String v = nonEmpty(m.getContains(), path + ".contains");
                    if (ic) {
                        String lower = v.toLowerCase(Locale.ROOT);
                        return s -> s.toLowerCase(Locale.ROOT).contains(lower);
                    }
                    return s -> s.contains(v);
                }
                case SAFE_REGEX -> {
                    if (ic) {
                        throw ConfigException.at(path + ".ignore_case",
                                "true (expected: false with safe_regex; ignore_case has no effect for safe_regex)");
                    }
                    String regex = m.getSafeRegex().getRegex();
                    if (regex.isEmpty()) {
                        throw ConfigException.at(path + ".safe_regex.regex", "\"\" (expected: a regex)");
                    }
                    Pattern p;
                    try {
                        p = Pattern.compile(regex);
                    } catch (PatternSyntaxException e) {
                        throw ConfigException.at(path + ".safe_regex.regex", quoteEscaped(regex)
                                + " (expected: a valid regex: " + e.getDescription() + ")");
                    }
                    return s -> p.matcher(s).matches();
                }
                case CUSTOM -> throw ConfigException.at(path + ".custom", "not supported yet");
                default -> throw ConfigException.at(path,
                        "missing (expected: one of exact, prefix, suffix, contains, safe_regex)");
            }
        }

        private static String nonEmpty(String v, String path) {
            if (v.isEmpty()) {
                throw ConfigException.at(path, "\"\" (expected: non-empty)");
            }
            return v;
        }
    }

    /**
     * A {@code RuntimeFractionalPercent} with Legate's lack of a runtime: the {@code default_value} always applies
     * (Envoy's {@code featureEnabled(runtime_key, default_value)} when the key is not set in the runtime), drawn
     * per request as {@code random % denominator < numerator}. A {@code runtime_key} is warned about when the
     * policy compiles.
     *
     * @param numerator   {@code default_value.numerator}
     * @param denominator 100, 10000 or 1000000
     */
    record Fraction(long numerator, long denominator) {

        static Fraction of(RuntimeFractionalPercent r, String path) {
            if (!r.hasDefaultValue()) {
                throw ConfigException.at(path + ".default_value", "missing (expected: a FractionalPercent)");
            }
            FractionalPercent f = r.getDefaultValue();
            long denominator = switch (f.getDenominator()) {
                case HUNDRED -> 100;
                case TEN_THOUSAND -> 10_000;
                case MILLION -> 1_000_000;
                default -> throw ConfigException.at(path + ".default_value.denominator",
                        f.getDenominatorValue() + " (expected: HUNDRED, TEN_THOUSAND or MILLION)");
            };
            if (!r.getRuntimeKey().isEmpty()) {
                logger.warn("{}.runtime_key: {} is not looked up (Legate has no runtime); default_value {}/{} applies",
                        path, quote(r.getRuntimeKey()), Integer.toUnsignedLong(f.getNumerator()), denominator);
            }
            return new Fraction(Integer.toUnsignedLong(f.getNumerator()), denominator);
        }

        /** One draw: always on at or above 100%, never at 0. */
        boolean sample() {
            if (numerator >= denominator) {
                return true;
            }
            return numerator > 0 && ThreadLocalRandom.current().nextLong(denominator) < numerator;
        }
    }

    private static String join(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    private static String quoteEscaped(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                case 0 -> b.append("\\0");
                case '"' -> b.append("\\\"");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
