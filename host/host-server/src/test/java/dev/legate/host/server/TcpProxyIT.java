package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** envoy.filters.network.tcp_proxy through the real proxy to a real echo server. */
class TcpProxyIT {

    static String config(int upstreamPort) {
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: tcp
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: echo
                          cluster: echo
                  - name: tcp_no_route
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: lost
                          cluster: does_not_exist
                  clusters:
                  - %s
                """.formatted(Proxy.staticCluster("echo", "", upstreamPort));
    }

    @Test
    void bytesFlowBothWaysWithHalfClose() throws Exception {
        try (EchoTcpServer echo = new EchoTcpServer(); Proxy proxy = new Proxy(config(echo.port()))) {
            byte[] payload = new byte[3 * 1024 * 1024 + 17];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i * 31);
            }
            try (Socket s = new Socket("127.0.0.1", proxy.port("tcp"))) {
                s.setSoTimeout(20_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                Thread reader = new Thread(() -> {
                    try {
                        in.transferTo(got);  // ends when the proxy relays the echo server's FIN
                    } catch (Exception ignored) {
                        // the assertion below reports a short read
                    }
                });
                reader.start();
                out.write(payload);
                out.flush();
                s.shutdownOutput();  // half-close: the echo server sees FIN, echoes the rest, closes
                reader.join(20_000);
                assertThat(got.size()).isEqualTo(payload.length);
                assertThat(Arrays.equals(got.toByteArray(), payload)).isTrue();
            }
            assertThat(proxy.counter("tcp.echo.downstream_cx_total")).isEqualTo(1);
            assertThat(proxy.counter("tcp.echo.downstream_cx_rx_bytes_total")).isEqualTo(payload.length);
            assertThat(proxy.counter("tcp.echo.downstream_cx_tx_bytes_total")).isEqualTo(payload.length);
            assertThat(echo.accepted.get()).isEqualTo(1);
        }
    }

    @Test
    void unknownClusterClosesTheConnection() throws Exception {
        try (EchoTcpServer echo = new EchoTcpServer(); Proxy proxy = new Proxy(config(echo.port()))) {
            try (Socket s = new Socket("127.0.0.1", proxy.port("tcp_no_route"))) {
                s.setSoTimeout(5_000);
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(proxy.counter("tcp.lost.downstream_cx_no_route")).isEqualTo(1);
        }
    }
}
