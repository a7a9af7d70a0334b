package dev.legate.filters.http.cors;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.BoolValue;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.Route;
import dev.legate.api.matcher.StringMatchers;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compiled config of one {@code envoy.filters.http.cors} entry of {@code http_filters}: its stats, and the
 * lookup of the CORS policies that apply to a request. Shared by every event loop; thread-safe.
 *
 * <p>The filter's own config ({@code envoy.extensions.filters.http.cors.v3.Cors}) has no fields. The policies
 * live in the route configuration, as in Envoy: {@code typed_per_filter_config["envoy.filters.http.cors"]}
 * ({@code envoy.extensions.filters.http.cors.v3.CorsPolicy}) on a weighted cluster, route, virtual host or route
 * configuration, compiled into a {@link Policy} when the route table is built
 * ({@link CorsFilterFactory#createRouteSpecificConfig}, so a policy Legate cannot run is a start-up error), or
 * the deprecated {@code cors} field ({@code envoy.config.route.v3.CorsPolicy}) of a virtual host or a route's
 * {@code route} action. {@link #policies} finds them for a request, most specific first (Envoy's
 * {@code CorsFilter::initializeCorsPolicies}).
 *
 * <p>The deprecated {@code cors} fields are not {@code typed_per_filter_config} entries, so no hook compiles them
 * at load: each is compiled the first time a request uses it and kept (by message, with a bound), so a request
 * costs a hash lookup, not a regex compilation. One that does not compile is logged at ERROR once and makes the
 * filter leave the requests of its routes alone.
 */
final class CorsSettings {

    private static final Logger logger = LoggerFactory.getLogger(CorsSettings.class);

    /** Where a per-route policy's warnings say it sits (the hook is not told the entry's full path). */
    static final String PER_ROUTE = "typed_per_filter_config[\"" + CorsFilterFactory.NAME + "\"]";

    /**
     * Beyond this many compiled deprecated {@code cors} policies (more than any one route configuration has) the
     * cache starts over.
     */
    static final int MAX_CACHED_LEGACY_POLICIES = 1024;

    private final CorsStats stats;
    private final ConcurrentHashMap<io.envoyproxy.envoy.config.route.v3.CorsPolicy, Policy> legacy =
            new ConcurrentHashMap<>();

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
     * {@code typed_per_filter_config} policies of every level (weighted cluster, route, virtual host, route
     * configuration, as {@link Route#perFilterConfigs} gives them, already compiled) when there is at least one;
     * otherwise the deprecated {@code cors} of the route's action, then of the virtual host. Empty when none
     * applies; {@code null} when a deprecated one does not compile (logged once). Event loop; no allocation for
     * typed policies.
     */
    List<Policy> policies(Route route) {
        List<Object> typed = route.perFilterConfigs(CorsFilterFactory.NAME);
        if (!typed.isEmpty()) {
            // Every entry under this filter's name is what CorsFilterFactory.createRouteSpecificConfig returned.
            @SuppressWarnings("unchecked")
            List<Policy> policies = (List<Policy>) (List<?>) typed;
            return policies;
        }
        io.envoyproxy.envoy.config.route.v3.Route rc = route.config();
        Policy onRoute = rc.hasRoute() && rc.getRoute().hasCors()
                ? legacy(rc.getRoute().getCors(), route, true) : null;
        Policy onVhost = route.virtualHost().hasCors() ? legacy(route.virtualHost().getCors(), route, false) : null;
        if (onRoute == Policy.INVALID || onVhost == Policy.INVALID) {
            return null;
        }
        if (onRoute == null) {
            return onVhost == null ? List.of() : List.of(onVhost);
        }
        return onVhost == null ? List.of(onRoute) : List.of(onRoute, onVhost);
    }

    /**
     * The compiled deprecated {@code cors} policy {@code p}: from the cache, or compiled now and cached;
     * {@link Policy#INVALID} (logged once) when it does not compile.
     */
    private Policy legacy(io.envoyproxy.envoy.config.route.v3.CorsPolicy p, Route route, boolean onRoute) {
        Policy compiled = legacy.get(p);
        if (compiled != null) {
            return compiled;
        }
        String where = onRoute ? "route " + quote(route.name()) + " route.cors"
                : "virtual host " + quote(route.virtualHost().getName()) + " cors";
        try {
            compiled = Policy.compile(p, "", where + ": ");
        } catch (ConfigException e) {
            logger.error("{}: CORS policy not applied to requests: {}", where, e.getMessage());
            compiled = Policy.INVALID;
        }
        if (legacy.size() >= MAX_CACHED_LEGACY_POLICIES) {
            legacy.clear();
        }
        Policy raced = legacy.putIfAbsent(p, compiled);
        return raced != null ? raced : compiled;
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
     */
    record Policy(List<Predicate<String>> allowOrigins, String allowMethods, String allowHeaders,
                  String exposeHeaders, String maxAge, Boolean allowCredentials, Boolean allowPrivateNetworkAccess,
                  Boolean forwardNotMatchingPreflights, Fraction filterEnabled, Fraction shadowEnabled) {

        /** Marks, by identity, a deprecated {@code cors} policy that did not compile, in the cache. */
        static final Policy INVALID = new Policy(List.of(), "", "", "", "", null, null, null, null, null);

        Policy {
            allowOrigins = List.copyOf(allowOrigins);
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

        /**
         * Whether {@code filter_enabled} samples on for one request; {@code true} when unset.
         *
         * @param random the stream's event loop's generator (its {@code ThreadLocalRandom} in production)
         */
        boolean drawEnabled(RandomGenerator random) {
            return filterEnabled == null || filterEnabled.sample(random);
        }

        /**
         * Whether {@code shadow_enabled} samples on for one request; {@code false} when unset.
         *
         * @param random the stream's event loop's generator (its {@code ThreadLocalRandom} in production)
         */
        boolean drawShadowEnabled(RandomGenerator random) {
            return shadowEnabled != null && shadowEnabled.sample(random);
        }

        /**
         * Compiles an {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}; a {@code runtime_key} is logged
         * as a warning with {@code path}.
         *
         * @param path where the message sits, for errors and warnings ({@code ""} names its fields only)
         * @throws ConfigException naming the field that Legate cannot run
         */
        static Policy compile(CorsPolicy p, String path) {
            return compile(p, path, "");
        }

        /**
         * Compiles an {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}.
         *
         * @param path      where the message sits, for errors ({@code ""} names its fields only)
         * @param logPrefix put in front of the path in warnings, e.g. {@code typed_per_filter_config["..."].}
         * @throws ConfigException naming the field that Legate cannot run
         */
        static Policy compile(CorsPolicy p, String path, String logPrefix) {
            requireNonNull(p, "p");
            return compile(p.getAllowOriginStringMatchList(), p.getAllowMethods(), p.getAllowHeaders(),
                    p.getExposeHeaders(), p.getMaxAge(), p.hasAllowCredentials() ? p.getAllowCredentials() : null,
                    p.hasAllowPrivateNetworkAccess() ? p.getAllowPrivateNetworkAccess() : null,
                    p.hasForwardNotMatchingPreflights() ? p.getForwardNotMatchingPreflights() : null,
                    p.hasFilterEnabled() ? p.getFilterEnabled() : null,
                    p.hasShadowEnabled() ? p.getShadowEnabled() : null, path, logPrefix);
        }

        /**
         * Compiles the deprecated {@code envoy.config.route.v3.CorsPolicy} of a virtual host's or route action's
         * {@code cors} field; same fields, same meaning, same errors.
         */
        static Policy compile(io.envoyproxy.envoy.config.route.v3.CorsPolicy p, String path, String logPrefix) {
            requireNonNull(p, "p");
            return compile(p.getAllowOriginStringMatchList(), p.getAllowMethods(), p.getAllowHeaders(),
                    p.getExposeHeaders(), p.getMaxAge(), p.hasAllowCredentials() ? p.getAllowCredentials() : null,
                    p.hasAllowPrivateNetworkAccess() ? p.getAllowPrivateNetworkAccess() : null,
                    p.hasForwardNotMatchingPreflights() ? p.getForwardNotMatchingPreflights() : null,
                    p.hasFilterEnabled() ? p.getFilterEnabled() : null,
                    p.hasShadowEnabled() ? p.getShadowEnabled() : null, path, logPrefix);
        }

        private static Policy compile(List<StringMatcher> origins, String methods, String headers, String expose,
                                      String maxAge, BoolValue credentials, BoolValue privateNetwork,
                                      BoolValue forward, RuntimeFractionalPercent enabled,
                                      RuntimeFractionalPercent shadow, String path, String logPrefix) {
            List<Predicate<String>> matchers = new ArrayList<>(origins.size());
            for (int i = 0; i < origins.size(); i++) {
                String at = join(path, "allow_origin_string_match[" + i + "]");
                matchers.add(StringMatchers.compile(origins.get(i), at));
            }
            return new Policy(matchers,
                    headerValue(methods, join(path, "allow_methods")),
                    headerValue(headers, join(path, "allow_headers")),
                    headerValue(expose, join(path, "expose_headers")),
                    headerValue(maxAge, join(path, "max_age")),
                    credentials == null ? null : credentials.getValue(),
                    privateNetwork == null ? null : privateNetwork.getValue(),
                    forward == null ? null : forward.getValue(),
                    enabled == null ? null : Fraction.of(enabled, join(path, "filter_enabled"), logPrefix),
                    shadow == null ? null : Fraction.of(shadow, join(path, "shadow_enabled"), logPrefix));
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
    }

    /**
     * A {@code RuntimeFractionalPercent} with Legate's lack of a runtime: the {@code default_value} always applies
     * (Envoy's {@code featureEnabled(runtime_key, default_value)} when the key is not set in the runtime), drawn
     * per request as {@code random % denominator < numerator}. A {@code runtime_key} is warned about when the
     * policy compiles (at start-up for a {@code typed_per_filter_config} policy).
     *
     * @param numerator   {@code default_value.numerator}
     * @param denominator 100, 10000 or 1000000
     */
    record Fraction(long numerator, long denominator) {

        /**
         * @param path      the field's path, for errors and the warning
         * @param logPrefix put in front of {@code path} in the warning
         */
        static Fraction of(RuntimeFractionalPercent r, String path, String logPrefix) {
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
                logger.warn("{}{}.runtime_key: {} is not looked up (Legate has no runtime); default_value {}/{} applies",
                        logPrefix, path, quote(r.getRuntimeKey()), Integer.toUnsignedLong(f.getNumerator()), denominator);
            }
            return new Fraction(Integer.toUnsignedLong(f.getNumerator()), denominator);
        }

        /**
         * One draw from {@code random}: always on at or above 100%, never at 0 (neither draws).
         *
         * @param random used on the caller's thread only
         */
        boolean sample(RandomGenerator random) {
            if (numerator >= denominator) {
                return true;
            }
            return numerator > 0 && random.nextLong(denominator) < numerator;
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
