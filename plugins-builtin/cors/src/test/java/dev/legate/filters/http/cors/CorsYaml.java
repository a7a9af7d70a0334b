package dev.legate.filters.http.cors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.StreamInfo;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;

/**
 * Test support: YAML (as a user writes it in a bootstrap) → Envoy's messages, parsed the way the host parses a
 * config (Jackson YAML → JSON → {@code JsonFormat} with a type registry), and a {@link Route} over a virtual host
 * and one of its routes, resolving {@code typed_per_filter_config} as the HTTP connection manager does.
 */
final class CorsYaml {

    private static final ObjectMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    static final TypeRegistry TYPES = TypeRegistry.newBuilder()
            .add(CorsPolicy.getDescriptor())
            .add(FilterConfig.getDescriptor())
            .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
            .build();

    private CorsYaml() {
    }

    static <B extends Message.Builder> B parse(String yaml, B builder) {
        try {
            String json = JSON.writeValueAsString(YAML.readTree(yaml));
            JsonFormat.parser().usingTypeRegistry(TYPES).merge(json, builder);
            return builder;
        } catch (Exception e) {
            throw new AssertionError("bad test YAML: " + e.getMessage(), e);
        }
    }

    static CorsPolicy policy(String yaml) {
        return parse(yaml, CorsPolicy.newBuilder()).build();
    }

    static io.envoyproxy.envoy.config.route.v3.CorsPolicy legacyPolicy(String yaml) {
        return parse(yaml, io.envoyproxy.envoy.config.route.v3.CorsPolicy.newBuilder()).build();
    }

    static VirtualHost virtualHost(String yaml) {
        return parse(yaml, VirtualHost.newBuilder()).build();
    }

    /**
     * The first route of {@code vhost}; its most specific CORS policy is the route's, else the virtual host's,
     * else {@code routeConfigPolicy} (the route configuration's), as the HCM's route table binds them.
     */
    static TestRoute route(VirtualHost vhost, CorsPolicy routeConfigPolicy) {
        io.envoyproxy.envoy.config.route.v3.Route rc = vhost.getRoutes(0);
        CorsPolicy mostSpecific = routeConfigPolicy;
        if (vhost.containsTypedPerFilterConfig(CorsFilterFactory.NAME)) {
            mostSpecific = CorsSettings.unpack(vhost.getTypedPerFilterConfigOrThrow(CorsFilterFactory.NAME));
        }
        if (rc.containsTypedPerFilterConfig(CorsFilterFactory.NAME)) {
            mostSpecific = CorsSettings.unpack(rc.getTypedPerFilterConfigOrThrow(CorsFilterFactory.NAME));
        }
        return new TestRoute(rc, vhost, rc.hasDirectResponse() ? null : ENTRY, mostSpecific);
    }

    static TestRoute route(String vhostYaml) {
        return route(virtualHost(vhostYaml), null);
    }

    /** A {@link Route} with fixed parts; {@code perFilterConfig} gives {@code mostSpecific} for the CORS filter. */
    record TestRoute(io.envoyproxy.envoy.config.route.v3.Route config, VirtualHost virtualHost, RouteEntry routeEntry,
                     CorsPolicy mostSpecific) implements Route {
        @Override
        public String name() {
            return config.getName();
        }

        @Override
        public DirectResponseEntry directResponseEntry() {
            return null;
        }

        @Override
        public Object perFilterConfig(String filterName) {
            return CorsFilterFactory.NAME.equals(filterName) ? mostSpecific : null;
        }
    }

    /** A forwarding route entry; the CORS filter only checks that there is one. */
    static final RouteEntry ENTRY = new RouteEntry() {
        @Override
        public String clusterName() {
            return "backend";
        }

        @Override
        public int clusterNotFoundResponseCode() {
            return 503;
        }

        @Override
        public long timeoutMillis() {
            return 15_000;
        }

        @Override
        public long idleTimeoutMillis() {
            return -1;
        }

        @Override
        public RetryPolicy retryPolicy() {
            return RetryPolicy.NONE;
        }

        @Override
        public boolean autoHostRewrite() {
            return false;
        }

        @Override
        public void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo) {
        }

        @Override
        public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
        }
    };
}
