package dev.legate.filters.http.cors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.Route;
import dev.legate.filters.network.httpconnectionmanager.route.RouteTable;
import dev.legate.host.config.ConfigBinder;
import dev.legate.host.config.ConfigTypeRegistry;
import dev.legate.host.config.FactoryContextImpl;
import dev.legate.host.plugin.FilterRegistry;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.route.v3.FilterConfig;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import java.nio.file.Path;
import java.util.ArrayList;

/**
 * Test support: YAML (as a user writes it in a bootstrap) → Envoy's messages, parsed the way the host parses a
 * config (Jackson YAML → JSON → {@code JsonFormat} with a type registry), and routes built by the real route
 * table of the HTTP connection manager ({@link RouteTable#compile}) over host-core's {@link FactoryContextImpl}
 * with the CORS factory registered: every {@code typed_per_filter_config} entry is bound by the host's binder and
 * compiled by {@link CorsFilterFactory#createRouteSpecificConfig}, as in the server.
 */
final class CorsYaml {

    private static final ObjectMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper();
    static final TypeRegistry TYPES = TypeRegistry.newBuilder()
            .add(RouteConfiguration.getDescriptor())
            .add(CorsPolicy.getDescriptor())
            .add(FilterConfig.getDescriptor())
            .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
            .build();

    private static final FilterRegistry FILTERS = FilterRegistry.builder()
            .add("legate-cors", new CorsFilterFactory()).build();
    private static final ConfigBinder BINDER = new ConfigBinder(ConfigTypeRegistry.build(FILTERS), FILTERS);

    /** The path the route configuration's errors start with. */
    static final String ROUTE_CONFIG = "route_config";

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

    /** Host-core's factory context as the server makes it, knowing only the CORS filter; no cluster check. */
    static FactoryContext hostContext() {
        FactoryContextImpl.Shared shared = new FactoryContextImpl.Shared(FILTERS, BINDER, null, null, "node-1",
                "cluster-1", Path.of("."), false, new ArrayList<>());
        return new FactoryContextImpl(shared, new TestFactoryContext().stats());
    }

    /**
     * The real route table of a route configuration given as YAML, built under the path {@code route_config}.
     *
     * @throws dev.legate.api.ConfigException as the server would at start-up
     */
    static RouteTable table(String routeConfigYaml) {
        return RouteTable.compile(parse(routeConfigYaml, RouteConfiguration.newBuilder()).build(), ROUTE_CONFIG,
                hostContext());
    }

    /**
     * The route a request for {@code api.example/api} takes in a route configuration whose only virtual host is
     * {@code vhostYaml}, and whose other fields ({@code typed_per_filter_config}...) are {@code routeConfigYaml}.
     */
    static Route route(String vhostYaml, String routeConfigYaml) {
        RouteConfiguration.Builder rc = parse(routeConfigYaml, RouteConfiguration.newBuilder());
        rc.addVirtualHosts(parse(vhostYaml, VirtualHost.newBuilder()));
        Route route = RouteTable.compile(rc.build(), ROUTE_CONFIG, hostContext())
                .route(TestHeaderMap.request("api.example", "/api"));
        if (route == null) {
            throw new AssertionError("no route for api.example/api");
        }
        return route;
    }

    static Route route(String vhostYaml) {
        return route(vhostYaml, "{}");
    }
}
