package dev.legate.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TypeRegistry;
import dev.legate.api.ConfigException;
import dev.legate.host.plugin.FilterRegistry;
import dev.legate.host.plugin.fixture.EchoNetworkFilterFactory;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapLoaderTest {

    private static final TypeRegistry TYPES = ConfigTypeRegistry.build(
            FilterRegistry.builder().add(FilterRegistry.APPLICATION, new EchoNetworkFilterFactory()).build());

    static final String VALID = """
            node: {id: node-1, cluster: front}
            admin:
              address: {socket_address: {address: 127.0.0.1, port_value: 9901}}
            static_resources:
              listeners:
              - name: listener_0
                address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: ingress_http
                      access_log:
                      - name: envoy.access_loggers.stdout
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                      route_config:
                        virtual_hosts:
                        - name: all
                          domains: ["*"]
                          routes:
                          - match: {prefix: "/"}
                            route: {cluster: service}
              - name: echo
                address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                filter_chains:
                - filters:
                  - name: legate.test.echo
                    typed_config:
                      "@type": type.googleapis.com/xds.type.v3.TypedStruct
                      type_url: type.googleapis.com/legate.test.Echo
                      value: {prefix: "> ", max_chunk: 3}
              clusters:
              - name: service
                connect_timeout: 0.25s
                type: STATIC
                lb_policy: ROUND_ROBIN
                load_assignment:
                  cluster_name: service
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}
            """;

    @TempDir
    Path dir;

    @Test
    void readsEnvoyYamlIntoTheBootstrapProto() throws Exception {
        Path file = write("envoy.yaml", VALID);

        BootstrapLoader.Loaded loaded = BootstrapLoader.load(file, null, TYPES);

        Bootstrap b = loaded.bootstrap();
        assertThat(loaded.configDirectory()).isEqualTo(dir.toAbsolutePath());
        assertThat(loaded.source()).isEqualTo(file.toString());
        assertThat(b.getNode().getId()).isEqualTo("node-1");
        assertThat(b.getStaticResources().getListenersList()).extracting(Listener::getName)
                .containsExactly("listener_0", "echo");
        HttpConnectionManager hcm = b.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0)
                .getTypedConfig().unpack(HttpConnectionManager.class);
        assertThat(hcm.getStatPrefix()).isEqualTo("ingress_http");
        assertThat(hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster()).isEqualTo("service");
        assertThat(b.getStaticResources().getClusters(0).getConnectTimeout().getNanos()).isEqualTo(250_000_000);
    }

    @Test
    void readsJsonFilesToo() throws Exception {
        Path file = write("envoy.json", """
                {"node": {"id": "n"}, "static_resources": {"listeners": []}}
                """);

        assertThat(BootstrapLoader.load(file, null, TYPES).bootstrap().getNode().getId()).isEqualTo("n");
    }

    @Test
    void configYamlIsMergedOnTopOfTheFile() throws Exception {
        Path file = write("envoy.yaml", VALID);

        Bootstrap b = BootstrapLoader.load(file, "node: {id: other}\nadmin: {address: {socket_address: {port_value: 9902}}}",
                TYPES).bootstrap();

        assertThat(b.getNode().getId()).isEqualTo("other");
        assertThat(b.getNode().getCluster()).isEqualTo("front");
        assertThat(b.getAdmin().getAddress().getSocketAddress().getPortValue()).isEqualTo(9902);
        assertThat(b.getAdmin().getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    }

    @Test
    void configYamlAlone() {
        BootstrapLoader.Loaded loaded = BootstrapLoader.load(null, "node: {id: only}", TYPES);

        assertThat(loaded.bootstrap().getNode().getId()).isEqualTo("only");
        assertThat(loaded.source()).isEqualTo("--config-yaml");
    }

    @Test
    void missingFileIsNamed() {
        Path file = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file not found: " + file);
    }

    @Test
    void unknownFieldNamesTheFieldAndItsPathInsideTypedConfig() throws Exception {
        Path file = write("envoy.yaml", VALID.replace("stat_prefix: ingress_http", "stat_prefx: ingress_http"));

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ": static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
                        + ".stat_prefx: unknown field");
    }

    @Test
    void unknownFieldInARepeatedListIsIndexed() throws Exception {
        Path file = write("envoy.yaml", VALID.replace("connect_timeout: 0.25s", "connect_timout: 0.25s"));

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .hasMessage(file + ": static_resources.clusters[0].connect_timout: unknown field");
    }

    @Test
    void unknownTopLevelField() {
        assertThatThrownBy(() -> BootstrapLoader.load(null, "static_resource: {}", TYPES))
                .hasMessage("--config-yaml: static_resource: unknown field");
    }

    @Test
    void unknownTypeUrlNamesThePath() throws Exception {
        Path file = write("envoy.yaml", VALID.replace(
                "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope"));

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ": static_resources.listeners[0].filter_chains[0].filters[0]"
                        + ".typed_config.http_filters[0].typed_config: unknown type URL "
                        + "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope");
    }

    @Test
    void yamlSyntaxErrorNamesFileAndLine() throws Exception {
        Path file = write("envoy.yaml", "node:\n  id: a\n   cluster: [b\n");

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":3:")
                .hasMessageContaining("YAML syntax error");
    }

    @Test
    void duplicateKeysAreAnError() {
        assertThatThrownBy(() -> BootstrapLoader.load(null, "node: {id: a}\nnode: {id: b}\n", TYPES))
                .hasMessageContaining("--config-yaml:2:")
                .hasMessageContaining("Duplicate field 'node'");
    }

    @Test
    void badValueNamesItsPathAndProtobufsMessage() {
        assertThatThrownBy(() -> BootstrapLoader.load(null,
                "static_resources: {listeners: [{address: {socket_address: {port_value: abc}}}]}", TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("--config-yaml: static_resources.listeners[0].address.socket_address.port_value: ")
                .hasMessageContaining("abc");
    }

    @Test
    void badValueDeepInsideTypedConfigIsLocated() throws Exception {
        Path file = write("envoy.yaml", VALID.replace("domains: [\"*\"]", "domains: {a: b}"));

        assertThatThrownBy(() -> BootstrapLoader.load(file, null, TYPES))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ": static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
                        + ".route_config.virtual_hosts[0].domains: ");
    }

    @Test
    void dynamicResourcesAreRefused() {
        Bootstrap b = BootstrapLoader.load(null, "dynamic_resources: {lds_config: {ads: {}}}", TYPES).bootstrap();

        assertThatThrownBy(() -> BootstrapChecks.check(b))
                .isInstanceOf(ConfigException.class)
                .hasMessage("dynamic_resources: not supported yet (xDS arrives in a later release)");
    }

    @Test
    void fieldsThatDoNotChangeBehaviourAreWarnings() throws Exception {
        Bootstrap b = BootstrapLoader.load(write("envoy.yaml", VALID),
                "stats_flush_interval: 10s\nlayered_runtime: {layers: [{name: l0, static_layer: {}}]}", TYPES)
                .bootstrap();

        List<String> warnings = BootstrapChecks.check(b);

        assertThat(warnings).containsExactlyInAnyOrder(
                "stats_flush_interval: not implemented yet, ignored",
                "layered_runtime: not implemented yet, ignored");
    }

    @Test
    void listenerFeaturesNotSupportedYetAreErrorsWithThePath() {
        Bootstrap b = BootstrapLoader.load(null, """
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 0.0.0.0, port_value: 1}}
                    listener_filters: [{name: envoy.filters.listener.tls_inspector}]
                    filter_chains: [{filters: [{name: legate.test.echo}]}]
                """, TYPES).bootstrap();

        assertThatThrownBy(() -> BootstrapChecks.check(b))
                .hasMessage("static_resources.listeners[0].listener_filters: not supported yet (listener filters "
                        + "arrive in a later release)");
    }

    @Test
    void twoFilterChainsAreNotSupportedYet() {
        Bootstrap b = BootstrapLoader.load(null, """
                static_resources:
                  listeners:
                  - address: {socket_address: {address: 0.0.0.0, port_value: 1}}
                    filter_chains: [{filters: []}, {filters: []}]
                """, TYPES).bootstrap();

        assertThatThrownBy(() -> BootstrapChecks.check(b))
                .hasMessageStartingWith("static_resources.listeners[0].filter_chains: 2 filter chains: not supported yet");
    }

    @Test
    void listenerAddressMustBeAnIp() {
        Bootstrap b = BootstrapLoader.load(null, """
                static_resources:
                  listeners:
                  - address: {socket_address: {address: localhost, port_value: 1}}
                    filter_chains: [{filters: []}]
                """, TYPES).bootstrap();

        assertThatThrownBy(() -> BootstrapChecks.check(b))
                .hasMessage("static_resources.listeners[0].address.socket_address.address: localhost "
                        + "(expected: an IP address, e.g. 0.0.0.0)");
    }

    private Path write(String name, String content) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }
}
