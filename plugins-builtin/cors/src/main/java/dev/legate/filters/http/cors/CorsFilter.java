package dev.legate.filters.http.cors;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The CORS filter for one stream (Envoy's {@code CorsFilter}, {@code source/extensions/filters/http/cors/cors_filter.cc}).
 * Confined to the stream's event loop; never blocks, never throws because of traffic.
 *
 * <p>Request side ({@link #decodeHeaders}): on a route that forwards upstream, with a CORS policy that is
 * enabled or shadow-enabled, a request with a non-empty {@code Origin} is counted as {@code origin_valid} or
 * {@code origin_invalid}. In shadow mode that is all. Otherwise a preflight ({@code OPTIONS} with a non-empty
 * {@code Access-Control-Request-Method}) is answered here with 200 and the {@code access-control-allow-*} and
 * {@code access-control-max-age} headers, details {@code cors_response} — unless its origin is not allowed and
 * {@code forward_not_matching_preflights} (default true) sends it upstream untouched.
 *
 * <p>Response side ({@link #encodeHeaders}): every response to an enforced CORS request from an allowed origin
 * (local replies and the preflight answer included, as they pass the encoder filters) gets
 * {@code access-control-allow-origin: <origin>}, and {@code access-control-allow-credentials: true} and
 * {@code access-control-expose-headers} when configured. A disallowed origin's response is left alone.
 */
final class CorsFilter implements HttpFilter {

    static final String ORIGIN = "origin";
    static final String ACCESS_CONTROL_REQUEST_METHOD = "access-control-request-method";
    static final String ACCESS_CONTROL_REQUEST_HEADERS = "access-control-request-headers";
    static final String ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK = "access-control-request-private-network";
    static final String ACCESS_CONTROL_ALLOW_ORIGIN = "access-control-allow-origin";
    static final String ACCESS_CONTROL_ALLOW_CREDENTIALS = "access-control-allow-credentials";
    static final String ACCESS_CONTROL_ALLOW_METHODS = "access-control-allow-methods";
    static final String ACCESS_CONTROL_ALLOW_HEADERS = "access-control-allow-headers";
    static final String ACCESS_CONTROL_MAX_AGE = "access-control-max-age";
    static final String ACCESS_CONTROL_EXPOSE_HEADERS = "access-control-expose-headers";
    static final String ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK = "access-control-allow-private-network";
    /** The response code details of a preflight answered here. */
    static final String CORS_RESPONSE = "cors_response";

    private final CorsSettings settings;
    /** Draws {@code filter_enabled}/{@code shadow_enabled}; the event loop's {@code ThreadLocalRandom} in production. */
    private final RandomGenerator random;
    private final HttpFilterCallbacks callbacks;

    /** The policies of this request's route, most specific first; set by {@link #decodeHeaders}. */
    private List<CorsSettings.Policy> policies;
    /** The CORS policy is enforced for this request (not disabled, not shadow-only) and it has an Origin. */
    private boolean isCorsRequest;
    /** The request's Origin when a policy allows it, else {@code null}. */
    private String latchedOrigin;

    /**
     * @param random draws the most specific policy's {@code filter_enabled} and {@code shadow_enabled} per
     *               request; used on the stream's event loop only
     */
    CorsFilter(CorsSettings settings, RandomGenerator random, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.random = requireNonNull(random, "random");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        Route route = callbacks.route();
        if (route == null || route.routeEntry() == null) {
            return FilterHeadersStatus.CONTINUE;
        }
        policies = settings.policies(route);
        if (policies == null || policies.isEmpty()) {
            return FilterHeadersStatus.CONTINUE;
        }
        // Envoy reads filter_enabled and shadow_enabled from the most specific policy only; drawn once here.
        CorsSettings.Policy mostSpecific = policies.get(0);
        boolean enabled = mostSpecific.drawEnabled(random);
        boolean shadowEnabled = mostSpecific.drawShadowEnabled(random);
        if (!enabled && !shadowEnabled) {
            return FilterHeadersStatus.CONTINUE;
        }
        String origin = inlineValue(headers, ORIGIN);
        if (origin == null || origin.isEmpty()) {
            return FilterHeadersStatus.CONTINUE;
        }
        boolean originAllowed = isOriginAllowed(origin);
        if (originAllowed) {
            settings.stats().originValid.inc();
            latchedOrigin = origin;
        } else {
            settings.stats().originInvalid.inc();
        }
        if (!enabled) {
            return FilterHeadersStatus.CONTINUE; // shadow mode: evaluated and counted, not enforced
        }
        isCorsRequest = true;

        if (!"OPTIONS".equals(headers.method())) {
            return FilterHeadersStatus.CONTINUE;
        }
        String requestMethod = inlineValue(headers, ACCESS_CONTROL_REQUEST_METHOD);
        if (requestMethod == null || requestMethod.isEmpty()) {
            return FilterHeadersStatus.CONTINUE;
        }
        // A preflight: OPTIONS, a non-empty Origin and a non-empty Access-Control-Request-Method.
        if (!originAllowed && forwardNotMatchingPreflights()) {
            return FilterHeadersStatus.CONTINUE;
        }

        HeaderMap response = callbacks.newHeaderMap();
        response.set(HeaderMap.STATUS, "200");
        if (originAllowed) {
            response.set(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        if (allowCredentials()) {
            response.set(ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        String allowMethods = allowMethods();
        if (!allowMethods.isEmpty()) {
            response.set(ACCESS_CONTROL_ALLOW_METHODS, allowMethods.equals("*") ? requestMethod : allowMethods);
        }
        String allowHeaders = allowHeaders();
        if (!allowHeaders.isEmpty()) {
            if (allowHeaders.equals("*")) {
                String requested = inlineValue(headers, ACCESS_CONTROL_REQUEST_HEADERS);
                response.set(ACCESS_CONTROL_ALLOW_HEADERS, requested == null ? "" : requested);
            } else {
                response.set(ACCESS_CONTROL_ALLOW_HEADERS, allowHeaders);
            }
        }
        String maxAge = maxAge();
        if (!maxAge.isEmpty()) {
            response.set(ACCESS_CONTROL_MAX_AGE, maxAge);
        }
        if (allowPrivateNetworkAccess() && "true".equals(inlineValue(headers, ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK))) {
            response.set(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK, "true");
        }
        callbacks.streamInfo().setResponseCodeDetails(CORS_RESPONSE);
        // Passes the encoder filters (this one's encodeHeaders too) and may end the stream before returning.
        callbacks.encodeHeaders(response, true);
        return FilterHeadersStatus.STOP_ITERATION;
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        if (!isCorsRequest || latchedOrigin == null) {
            return FilterHeadersStatus.CONTINUE;
        }
        headers.set(ACCESS_CONTROL_ALLOW_ORIGIN, latchedOrigin);
        if (allowCredentials()) {
            headers.set(ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        String exposeHeaders = exposeHeaders();
        if (!exposeHeaders.isEmpty()) {
            headers.set(ACCESS_CONTROL_EXPOSE_HEADERS, exposeHeaders);
        }
        return FilterHeadersStatus.CONTINUE;
    }

    // The merged policy: each field from the most specific policy that sets it, over every level (Envoy's
    // CorsFilter accessors).

    private boolean isOriginAllowed(String origin) {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (!p.allowOrigins().isEmpty()) {
                return p.allowsOrigin(origin);
            }
        }
        return false;
    }

    private boolean forwardNotMatchingPreflights() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (p.forwardNotMatchingPreflights() != null) {
                return p.forwardNotMatchingPreflights();
            }
        }
        return true;
    }

    private String allowMethods() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (!p.allowMethods().isEmpty()) {
                return p.allowMethods();
            }
        }
        return "";
    }

    private String allowHeaders() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (!p.allowHeaders().isEmpty()) {
                return p.allowHeaders();
            }
        }
        return "";
    }

    private String exposeHeaders() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (!p.exposeHeaders().isEmpty()) {
                return p.exposeHeaders();
            }
        }
        return "";
    }

    private String maxAge() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (!p.maxAge().isEmpty()) {
                return p.maxAge();
            }
        }
        return "";
    }

    private boolean allowCredentials() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (p.allowCredentials() != null) {
                return p.allowCredentials();
            }
        }
        return false;
    }

    private boolean allowPrivateNetworkAccess() {
        for (int i = 0; i < policies.size(); i++) {
            CorsSettings.Policy p = policies.get(i);
            if (p.allowPrivateNetworkAccess() != null) {
                return p.allowPrivateNetworkAccess();
            }
        }
        return false;
    }

    /**
     * A request header as Envoy's inline headers hold it: repeated values joined with {@code ,}; {@code null}
     * when absent.
     */
    private static String inlineValue(HeaderMap headers, String name) {
        List<String> all = headers.getAll(name);
        if (all.isEmpty()) {
            return null;
        }
        return all.size() == 1 ? all.get(0) : String.join(",", all);
    }
}
