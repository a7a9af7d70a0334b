package dev.legate.api.http;

import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;

/**
 * The route chosen for a request (Envoy's {@code Router::Route}): exactly one of {@link #routeEntry()} (send
 * upstream) and {@link #directResponseEntry()} (answer here: {@code direct_response} or {@code redirect}) is
 * non-null. Immutable and shared across event loops, except that a weighted or header-chosen cluster is
 * resolved per request.
 */
public interface Route {

    /** The route's {@code name}, or {@code ""}. */
    String name();

    /** The Envoy config of this route. */
    io.envoyproxy.envoy.config.route.v3.Route config();

    /** The Envoy config of the virtual host the route belongs to. */
    VirtualHost virtualHost();

    /** Where to send the request, or {@code null} for a direct response or redirect. */
    RouteEntry routeEntry();

    /** The local answer, or {@code null} when the route forwards upstream. */
    DirectResponseEntry directResponseEntry();

    /**
     * The per-filter config for {@code filterName}, most specific first (route, virtual host, route
     * configuration): what the filter factory's {@link HttpFilterFactory#createRouteSpecificConfig} returned for
     * that {@code typed_per_filter_config} entry (by default the entry bound to
     * {@link HttpFilterFactory#perRouteConfigType()}); {@code null} when none.
     */
    Object perFilterConfig(String filterName);

    /**
     * Every level's per-filter config for {@code filterName}, most specific first (weighted cluster, route,
     * virtual host, route configuration), as Envoy's {@code traversePerFilterConfig} visits them; for filters
     * that merge settings across levels. Each is what {@link HttpFilterFactory#createRouteSpecificConfig}
     * returned for that level's entry (by default the bound {@link HttpFilterFactory#perRouteConfigType()}).
     * Empty when none.
     */
    default List<Object> perFilterConfigs(String filterName) {
        Object o = perFilterConfig(filterName);
        return o == null ? List.of() : List.of(o);
    }
}
