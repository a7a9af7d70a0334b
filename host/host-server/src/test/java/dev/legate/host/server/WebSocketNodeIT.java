package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket through Legate with the {@code ws} npm package on both ends (run by Node): a {@code ws} server behind
 * Legate (HCM {@code upgrade_configs: [{ upgrade_type: websocket }]}, an HTTP/1.1 cluster) and a {@code ws} client
 * connected to Legate's listener. Text and binary messages go both ways (the server speaks first), an 8 MiB message
 * is echoed whole, the client's close code and reason reach the server and the close handshake completes; a route
 * that disables WebSocket refuses the upgrade with 403, as Envoy does.
 */
class WebSocketNodeIT {

    static NodeScripts.Server origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        origin = new NodeScripts.Server("LISTENING ", "ws-server.mjs");
        int port = Integer.parseInt(origin.ready().substring("LISTENING ".length()).trim());
        proxy = new Proxy("""
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
                          upgrade_configs: [ { upgrade_type: websocket } ]
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: { prefix: "/nows" }
                                route: { cluster: ws, upgrade_configs: [ { upgrade_type: websocket, enabled: false } ] }
                              - match: { prefix: "/" }
                                route: { cluster: ws, timeout: 0s }
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s ]
                """.formatted(Proxy.staticCluster("ws", "", port)));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void wsClientAndServerExchangeMessagesBothWaysThroughLegate() throws Exception {
        String base = "ws://127.0.0.1:" + proxy.port("listener_0");
        NodeScripts.Result r = NodeScripts.run(60, "ws-client.mjs", base + "/chat", base + "/nows");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.lines("RESULT ")).as(r.toString()).containsExactly(
                "RESULT hello binary=false text=hello",
                "RESULT text binary=false text=echo:ping ✓",
                "RESULT binary binary=true bytes=5,4,3,2,1",
                "RESULT large binary=true size=8388608 reversed=true",
                "RESULT close code=4000 reason=bye",
                "RESULT rejected status=403");
        // the server saw the upgrade come through Legate (which adds x-forwarded-proto) and the client's close frame
        assertThat(origin.awaitLine("CONNECTED ", 5_000)).isEqualTo("CONNECTED /chat via=http");
        assertThat(origin.awaitLine("CLOSED ", 5_000)).isEqualTo("CLOSED 4000 bye");
        assertThat(proxy.counter("http.ingress_http.downstream_cx_upgrades_total")).isEqualTo(1);
        assertThat(proxy.counter("http.ingress_http.downstream_rq_ws_on_non_ws_route")).isEqualTo(1);
    }
}
