package dev.legate.host.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {

    private final TestContext ctx = new TestContext();
    private AdminServer server;
    private String base;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() {
        server = new AdminServer(new InetSocketAddress("127.0.0.1", 0), ctx);
        InetSocketAddress bound = server.start();
        assertThat(bound.getPort()).isPositive();
        base = "http://127.0.0.1:" + bound.getPort();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readyFollowsServerState() throws Exception {
        HttpResponse<String> live = get("/ready");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("LIVE\n");
        ctx.state = "DRAINING";
        HttpResponse<String> draining = get("/ready");
        assertThat(draining.statusCode()).isEqualTo(503);
        assertThat(draining.body()).isEqualTo("DRAINING\n");
    }

    @Test
    void statsTextFilterJsonAndPrometheus() throws Exception {
        ctx.stats.root().scope("cluster.backend").counter("upstream_rq_total").add(3);
        ctx.stats.root().scope("http.ingress").counter("downstream_rq_total").add(2);

        HttpResponse<String> filtered = get("/stats?filter=upstream_rq");
        assertThat(filtered.statusCode()).isEqualTo(200);
        assertThat(filtered.body()).isEqualTo("cluster.backend.upstream_rq_total: 3\n");
        assertThat(ctx.adminThread.getName()).startsWith("legate-admin"); // never a worker

        JsonNode json = new ObjectMapper().readTree(get("/stats?format=json&filter=downstream").body());
        assertThat(json.get("stats").get(0).get("name").asText()).isEqualTo("http.ingress.downstream_rq_total");

        String prom = get("/stats/prometheus").body();
        assertThat(prom).contains("# TYPE envoy_cluster_upstream_rq_total counter\n"
                + "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 3\n");
        assertThat(get("/stats?format=prometheus").body()).isEqualTo(prom);

        assertThat(get("/stats?filter=(").statusCode()).isEqualTo(400);
    }

    @Test
    void clustersListenersAndPlugins() throws Exception {
        assertThat(get("/clusters").body()).isEqualTo("backend::default_priority::max_connections::1024\n");

        assertThat(get("/listeners").body()).isEqualTo("listener_0::127.0.0.1:10000\n");
        JsonNode l = new ObjectMapper().readTree(get("/listeners?format=json").body());
        JsonNode status = l.get("listener_statuses").get(0);
        assertThat(status.get("name").asText()).isEqualTo("listener_0");
        assertThat(status.at("/local_address/socket_address/address").asText()).isEqualTo("127.0.0.1");
        assertThat(status.at("/local_address/socket_address/port_value").asInt()).isEqualTo(10000);

        JsonNode plugins = new ObjectMapper().readTree(get("/plugins").body());
        assertThat(plugins.get(0).get("id").asText()).isEqualTo("legate-router");
        assertThat(plugins.get(0).get("filters").get(0).asText()).isEqualTo("envoy.filters.http.router");
    }

    @Test
    void postOnlyEndpointsRefuseGet() throws Exception {
        HttpResponse<String> r = get("/quitquitquit");
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.body()).isEqualTo("Method GET not allowed, POST required.\n");
        assertThat(ctx.quit.getCount()).isEqualTo(1);

        assertThat(get("/healthcheck/fail").statusCode()).isEqualTo(405);
        assertThat(ctx.healthCheckFailed).isFalse();
        HttpResponse<String> fail = post("/healthcheck/fail");
        assertThat(fail.statusCode()).isEqualTo(200);
        assertThat(fail.body()).isEqualTo("OK\n");
        assertThat(ctx.healthCheckFailed).isTrue();
        post("/healthcheck/ok");
        assertThat(ctx.healthCheckFailed).isFalse();

        HttpResponse<String> quit = post("/quitquitquit");
        assertThat(quit.statusCode()).isEqualTo(200);
        assertThat(quit.body()).isEqualTo("OK\n");
        assertThat(ctx.quit.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ctx.quitThread).isNotEqualTo(ctx.adminThread);
    }

    @Test
    void unknownPathIs404WithHelp() throws Exception {
        HttpResponse<String> r = get("/nope");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).startsWith("invalid path. admin commands are:\n").contains("  /ready: ");
        assertThat(get("/help").body()).startsWith("admin commands are:\n").contains("  /config_dump: ");
    }

    @Test
    void configDumpHasEnvoysShape() throws Exception {
        HttpResponse<String> r = get("/config_dump");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode configs = new ObjectMapper().readTree(r.body()).get("configs");
        List<String> types = new ArrayList<>();
        configs.forEach(c -> types.add(c.get("@type").asText()));
        assertThat(types).containsExactly(
                "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
                "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
                "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                "type.googleapis.com/envoy.admin.v3.RoutesConfigDump");
        assertThat(configs.get(0).at("/bootstrap/node/id").asText()).isEqualTo("node-1");
        assertThat(configs.get(0).has("last_updated")).isTrue();
        assertThat(configs.get(1).at("/static_clusters/0/cluster/@type").asText())
                .isEqualTo("type.googleapis.com/envoy.config.cluster.v3.Cluster");
        assertThat(configs.get(1).at("/static_clusters/0/cluster/name").asText()).isEqualTo("backend");
        JsonNode filter = configs.get(2).at("/static_listeners/0/listener/filter_chains/0/filters/0/typed_config");
        assertThat(filter.get("@type").asText()).isEqualTo(
                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
        assertThat(filter.at("/http_filters/0/typed_config/@type").asText())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors");
        assertThat(filter.at("/http_filters/1/typed_config/@type").asText())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
        assertThat(configs.get(3).at("/static_route_configs/0/route_config/name").asText()).isEqualTo("local_route");
    }

    @Test
    void serverInfo() throws Exception {
        JsonNode info = new ObjectMapper().readTree(get("/server_info").body());
        assertThat(info.get("version").asText()).isEqualTo("legate/0.1.0");
        assertThat(info.get("state").asText()).isEqualTo("LIVE");
        assertThat(info.get("uptime_current_epoch").asText()).isEqualTo("42s");
        assertThat(info.at("/command_line_options/concurrency").asInt()).isEqualTo(2);
        assertThat(info.at("/command_line_options/drain_time").asText()).isEqualTo("600s");
        assertThat(info.at("/command_line_options/mode").asText()).isEqualTo("Validate");
        assertThat(info.at("/command_line_options/service_cluster").asText()).isEqualTo("front");
        assertThat(info.at("/node/id").asText()).isEqualTo("node-1");
    }

    /** A fixed server. */
    private static final class TestContext implements AdminContext {
        final StatsStore stats = new StatsStore();
        volatile String state = "LIVE";
        volatile boolean healthCheckFailed;
        final CountDownLatch quit = new CountDownLatch(1);
        volatile Thread quitThread;
        volatile Thread adminThread;

        @Override
        public StatsStore stats() {
            adminThread = Thread.currentThread();
            return stats;
        }

        @Override
        public String clustersText() {
            return "backend::default_priority::max_connections::1024\n";
        }

        @Override
        public List<ListenerInfo> listeners() {
            return List.of(new ListenerInfo("listener_0", new InetSocketAddress("127.0.0.1", 10000)));
        }

        @Override
        public Message bootstrap() {
            HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix("ingress_http")
                    .setRouteConfig(RouteConfiguration.newBuilder().setName("local_route")
                            .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*")))
                    .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.cors")
                            .setTypedConfig(Any.pack(Cors.getDefaultInstance())))
                    .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router")
                            .setTypedConfig(Any.pack(Router.getDefaultInstance())))
                    .build();
            return Bootstrap.newBuilder()
                    .setNode(node())
                    .setStaticResources(Bootstrap.StaticResources.newBuilder()
                            .addListeners(Listener.newBuilder().setName("listener_0")
                                    .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                                            .setAddress("127.0.0.1").setPortValue(10000)))
                                    .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
                                            .setName("envoy.filters.network.http_connection_manager")
                                            .setTypedConfig(Any.pack(hcm)))))
                            .addClusters(Cluster.newBuilder().setName("backend")))
                    .build();
        }

        @Override
        public String state() {
            return state;
        }

        @Override
        public long uptimeSeconds() {
            return 42;
        }

        @Override
        public Map<String, Object> commandLineOptions() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("concurrency", 2);
            m.put("drain_time", Duration.ofMinutes(10));
            m.put("mode", "validate");
            m.put("service_cluster", "front");
            m.put("no_such_option", "ignored");
            return m;
        }

        @Override
        public Node node() {
            return Node.newBuilder().setId("node-1").setCluster("front").build();
        }

        @Override
        public List<PluginInfo> plugins() {
            return List.of(new PluginInfo("legate-router", "0.1.0", "STARTED", List.of("envoy.filters.http.router")));
        }

        @Override
        public void quit() {
            quitThread = Thread.currentThread();
            quit.countDown();
        }

        @Override
        public void setHealthCheckFailed(boolean failed) {
            healthCheckFailed = failed;
        }

        @Override
        public TypeRegistry typeRegistry() {
            // what plugins declared: here only CORS (the router's type the admin knows by itself)
            return TypeRegistry.newBuilder().add(Cors.getDescriptor()).build();
        }
    }
}
