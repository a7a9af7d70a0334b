package dev.legate.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.host.listener.ListenerBindException;
import dev.legate.host.plugin.fixture.EchoNetworkFilterFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up, validation and shutdown of the whole server. */
class ServerTest {

    private static final String ECHO = """
            node: {id: from-file, cluster: c1}
            admin:
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            static_resources:
              listeners:
              - name: echo
                address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                filter_chains:
                - filters:
                  - name: legate.test.echo
                    typed_config:
                      "@type": type.googleapis.com/xds.type.v3.TypedStruct
                      type_url: type.googleapis.com/legate.test.Echo
            """;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static ServerOptions.Builder options() {
        return ServerOptions.builder().concurrency(1).extraFactory(new EchoNetworkFilterFactory());
    }

    @Test
    void servesAdminReadyAndHealthCheckFailTurnsItDraining() throws Exception {
        Path file = dir.resolve("envoy.yaml");
        Files.writeString(file, ECHO);
        try (Server server = Server.start(options().configPath(file).serviceNode("from-cli").build())) {
            assertThat(server.adminAddress()).isNotNull();
            assertThat(get(server, "/ready").statusCode()).isEqualTo(200);
            assertThat(server.stats().gauge("server.live")).isEqualTo(1);
            assertThat(server.stats().gauge("server.concurrency")).isEqualTo(1);
            assertThat(server.bootstrap().getNode().getId()).isEqualTo("from-cli");
            assertThat(server.bootstrap().getNode().getCluster()).isEqualTo("c1");

            server.adminContext().setHealthCheckFailed(true);
            HttpResponse<String> ready = get(server, "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("DRAINING\n");
            assertThat(server.stats().gauge("server.state")).isEqualTo(1);
        }
    }

    @Test
    void quitClosesTheServer() throws Exception {
        Server server = Server.start(options().configYaml(ECHO).build());
        InetSocketAddress listener = server.listenerAddress("echo");

        server.adminContext().quit();

        assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        try (ServerSocket s = new ServerSocket(listener.getPort(), 1, listener.getAddress())) {
            assertThat(s.getLocalPort()).isEqualTo(listener.getPort()); // the port is free again
        }
        server.close(); // idempotent
    }

    @Test
    void quitDoesNotWaitForTheDrainTimeButCloseDoes() throws Exception {
        Server quitting = Server.start(options().configYaml(ECHO).drainTimeSeconds(600).build());
        try (java.net.Socket idle = new java.net.Socket()) {
            idle.connect(quitting.listenerAddress("echo"), 5000);
            quitting.adminContext().quit();
            assertThat(quitting.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            idle.setSoTimeout(5000);
            assertThat(idle.getInputStream().read()).isEqualTo(-1); // closed by the server
        }

        Server draining = Server.start(options().configYaml(ECHO).drainTimeSeconds(1).build());
        try (java.net.Socket idle = new java.net.Socket()) {
            idle.connect(draining.listenerAddress("echo"), 5000);
            String active = "listener.127.0.0.1_" + draining.listenerAddress("echo").getPort() + ".downstream_cx_active";
            for (int i = 0; i < 500 && draining.stats().gauge(active) == 0; i++) {
                Thread.sleep(10); // until the server has accepted it
            }
            long t0 = System.nanoTime();
            draining.close();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(ms).isBetween(900L, 8000L); // waited for the idle connection, then closed it
            idle.setSoTimeout(5000);
            assertThat(idle.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void noPartialStartWhenTheAdminPortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String yaml = ECHO.replace("admin:\n  address: {socket_address: {address: 127.0.0.1, port_value: 0}}",
                    "admin:\n  address: {socket_address: {address: 127.0.0.1, port_value: " + taken.getLocalPort() + "}}");

            assertThatThrownBy(() -> Server.start(options().configYaml(yaml).build()))
                    .isInstanceOf(ListenerBindException.class)
                    .hasMessageStartingWith("admin: cannot bind 127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void validateBuildsWithoutBindingAndNamesTheFileInErrors() throws Exception {
        Path file = dir.resolve("envoy.yaml");
        Files.writeString(file, ECHO.replace("port_value: 0", "port_value: 1"));

        assertThat(Server.validate(options().configPath(file).mode(ServerOptions.Mode.VALIDATE).build())).isEmpty();

        Files.writeString(file, ECHO + "dynamic_resources: {cds_config: {ads: {}}}\n");
        assertThatThrownBy(() -> Server.validate(options().configPath(file).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ": dynamic_resources: not supported yet (xDS arrives in a later release)");
    }

    @Test
    void missingConfigFile() {
        Path file = dir.resolve("missing.yaml");

        assertThatThrownBy(() -> Server.start(options().configPath(file).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file not found: " + file);
    }

    private HttpResponse<String> get(Server server, String path) throws Exception {
        InetSocketAddress a = server.adminAddress();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
