package dev.legate.host.server;

import dev.legate.host.Server;
import dev.legate.host.ServerOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The real proxy for integration tests: a {@link Server} started in this JVM from the built distribution's
 * {@code plugins-builtin/} (the same jars {@code ./legate} loads through PF4J), configured by YAML whose
 * listeners bind 127.0.0.1 port 0. Clients are real: the JDK's HttpClient, raw sockets, curl.
 */
final class Proxy implements AutoCloseable {

    /** The distribution built by {@code package}: {@code host/host-server/target/legate}. */
    static final Path DIST = Path.of(System.getProperty("legate.dist", "target/legate"));

    static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

    final Server server;

    Proxy(String yaml, Path... userPluginDirs) {
        List<Path> dirs = new ArrayList<>();
        dirs.add(DIST.resolve("plugins-builtin"));
        dirs.addAll(List.of(userPluginDirs));
        server = Server.start(ServerOptions.builder().configYaml(yaml).concurrency(2).pluginsDirs(dirs).build());
    }

    int port(String listener) {
        return server.listenerAddress(listener).getPort();
    }

    URI uri(String listener, String path) {
        return URI.create("http://127.0.0.1:" + port(listener) + path);
    }

    HttpResponse<String> get(String listener, String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(uri(listener, path)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> admin(String method, String path) throws IOException, InterruptedException {
        InetSocketAddress a = server.adminAddress();
        int q = path.indexOf('?');
        String target = q < 0 ? path : path.substring(0, q + 1) + java.net.URLEncoder.encode(path.substring(q + 1),
                java.nio.charset.StandardCharsets.UTF_8).replace("%3D", "=").replace("%26", "&");
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + target))
                .timeout(Duration.ofSeconds(10));
        b = method.equals("POST") ? b.POST(HttpRequest.BodyPublishers.noBody()) : b.GET();
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    long counter(String name) {
        return server.stats().counter(name);
    }

    /**
     * Writes {@code request} raw to the listener and reads until the proxy closes the connection or
     * {@code timeoutMillis} passes; returns what was read.
     */
    String raw(String listener, String request, int timeoutMillis) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port(listener))) {
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder sb = new StringBuilder();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                }
                sb.append("<EOF>");
            } catch (java.net.SocketTimeoutException e) {
                sb.append("<TIMEOUT>");
            }
            return sb.toString();
        }
    }

    /** A listener + HCM + router config around {@code routeConfig} and {@code clusters} (YAML fragments). */
    static String httpConfig(String routeConfig, String clusters) {
        return httpConfig(routeConfig, clusters, "");
    }

    /**
     * Like {@link #httpConfig(String, String)}, with {@code filterBeforeRouter} (one {@code http_filters}
     * entry in YAML flow style, or {@code ""}) ahead of the router.
     */
    static String httpConfig(String routeConfig, String clusters, String filterBeforeRouter) {
        String extra = filterBeforeRouter.isEmpty() ? "" : "\n          - " + filterBeforeRouter;  // the text block's indentation
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: listener_0
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ingress_http
                          route_config: %s
                          http_filters:%s
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: %s
                """.formatted(routeConfig, extra, clusters);
    }

    /** A STATIC cluster YAML flow mapping with the given endpoints (ports on 127.0.0.1). */
    static String staticCluster(String name, String extra, int... ports) {
        StringBuilder eps = new StringBuilder();
        for (int p : ports) {
            if (eps.length() > 0) {
                eps.append(", ");
            }
            eps.append("{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ")
                    .append(p).append(" } } } }");
        }
        return "{ name: " + name + ", connect_timeout: 1s, type: STATIC" + (extra.isEmpty() ? "" : ", " + extra)
                + ", load_assignment: { cluster_name: " + name + ", endpoints: [ { lb_endpoints: [ " + eps + " ] } ] } }";
    }

    @Override
    public void close() {
        server.close();
    }
}
