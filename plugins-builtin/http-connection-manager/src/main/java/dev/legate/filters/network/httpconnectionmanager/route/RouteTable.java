package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.FactoryContext;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The compiled inline {@code route_config} (Envoy's {@code RouteMatcher}): virtual hosts by domain, then
 * the first route whose match holds. Built once per listener on the main thread; immutable and shared by
 * every event loop; {@link #route} allocates nothing for a plain {@code cluster} route.
 *
 * <p>Virtual host selection: the lower-cased {@code :authority} is first looked up exactly as sent (so a
 * domain written with its port wins); then its port is dropped and Envoy's precedence applies: exact
 * domain, then the longest suffix wildcard ({@code *.foo.com}, {@code *-bar.foo.com}), then the longest
 * prefix wildcard ({@code foo.*}), then {@code *}. A wildcard never matches an empty part.
 */
public final class RouteTable {

    /** One compiled virtual host. */
    record VirtualHostRoutes(String name, VirtualHost config, CompiledRoute[] routes,
                             VirtualHost.TlsRequirementType requireTls, CompiledRoute tlsRedirect) {
    }

    record Wildcard(String text, VirtualHostRoutes virtualHost) {
    }

    private final Map<String, VirtualHostRoutes> exact;
    private final Wildcard[] suffixes;
    private final Wildcard[] prefixes;
    private final VirtualHostRoutes defaultVirtualHost;
    private final List<String> internalOnlyHeaders;

    RouteTable(Map<String, VirtualHostRoutes> exact, Wildcard[] suffixes, Wildcard[] prefixes,
               VirtualHostRoutes defaultVirtualHost, List<String> internalOnlyHeaders) {
        this.exact = Map.copyOf(exact);
        this.suffixes = suffixes;
        this.prefixes = prefixes;
        this.defaultVirtualHost = defaultVirtualHost;
        this.internalOnlyHeaders = List.copyOf(internalOnlyHeaders);
    }

    /**
     * Compiles {@code config}: regexes, header rules with their {@code %VAR%}s, per-filter configs (through
     * {@link FactoryContext#perFilterConfig}), direct-response bodies (files read now), and with
     * {@code validate_clusters} (default true) the cluster names against {@link FactoryContext#clusterManager()}.
     *
     * @param path where {@code config} sits, for errors: {@code route_config}
     * @throws dev.legate.api.ConfigException naming the first bad field
     */
    public static RouteTable compile(RouteConfiguration config, String path, FactoryContext context) {
        return new RouteCompiler(config, path, context).compile();
    }

    /**
     * The route for a request, or {@code null} when no virtual host or route matched. Call on the stream's
     * event loop; reads {@code :authority}, {@code :path} and the headers the matches name.
     */
    public Route route(HeaderMap headers) {
        VirtualHostRoutes vh = findVirtualHost(headers.authority());
        if (vh == null) {
            return null;
        }
        if (vh.tlsRedirect() != null && needsTlsRedirect(vh.requireTls(), headers)) {
            return vh.tlsRedirect();
        }
        String path = headers.path();
        if (path == null) {
            return null;
        }
        for (CompiledRoute r : vh.routes()) {
            if (r.matches(headers, path)) {
                return r.resolve(headers);
            }
        }
        return null;
    }

    /** {@code internal_only_headers}, lower case: removed from requests that are not internal. */
    public List<String> internalOnlyHeaders() {
        return internalOnlyHeaders;
    }

    private static boolean needsTlsRedirect(VirtualHost.TlsRequirementType requireTls, HeaderMap headers) {
        if ("https".equals(headers.get("x-forwarded-proto"))) {
            return false;
        }
        return requireTls == VirtualHost.TlsRequirementType.ALL
                || !"true".equals(headers.get("x-envoy-internal"));
    }

    /** The virtual host for {@code authority} ({@code null} means an empty host). */
    VirtualHostRoutes findVirtualHost(String authority) {
        if (exact.isEmpty() && suffixes.length == 0 && prefixes.length == 0) {
            return defaultVirtualHost;
        }
        String host = authority == null ? "" : lowerCase(authority);
        VirtualHostRoutes vh = exact.get(host);
        if (vh != null) {
            return vh;
        }
        String stripped = stripPort(host);
        if (stripped != host) {
            vh = exact.get(stripped);
            if (vh != null) {
                return vh;
            }
        }
        for (Wildcard w : suffixes) {
            if (stripped.length() > w.text().length() && stripped.endsWith(w.text())) {
                return w.virtualHost();
            }
        }
        for (Wildcard w : prefixes) {
            if (stripped.length() > w.text().length() && stripped.startsWith(w.text())) {
                return w.virtualHost();
            }
        }
        return defaultVirtualHost;
    }

    private static String lowerCase(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return s.toLowerCase(Locale.ROOT);
            }
        }
        return s;
    }

    /** {@code host:port} → {@code host}, {@code [v6]:port} → {@code [v6]}; the same instance when there is no port. */
    static String stripPort(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0) {
            return host;
        }
        if (host.charAt(0) == '[') {
            int close = host.lastIndexOf(']');
            if (close < 0 || colon < close) {
                return host;
            }
        } else if (host.indexOf(':') != colon) {
            return host; // a bare IPv6 literal
        }
        for (int i = colon + 1; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c < '0' || c > '9') {
                return host;
            }
        }
        return host.substring(0, colon);
    }
}
