package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Envoy's own example configs run unchanged but for addresses. */
class EnvoyExamplesIT {

    static String example(String name, TestOrigin s1, TestOrigin s2) throws IOException {
        try (InputStream in = EnvoyExamplesIT.class.getResourceAsStream("/envoy-examples/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("${SERVICE1_PORT}", Integer.toString(s1.port()))
                    .replace("${SERVICE2_PORT}", Integer.toString(s2.port()));
        }
    }

    @Test
    void tutorialConfigAlternatesBetweenTheTwoEndpoints() throws Exception {
        try (TestOrigin s1 = new TestOrigin("s1"); TestOrigin s2 = new TestOrigin("s2");
             Proxy proxy = new Proxy(example("tutorial.yaml", s1, s2))) {
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                HttpResponse<String> r = proxy.get("listener_0", "/echo");
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("x-seen-host")).hasValue("www.envoyproxy.io");
                seen.add(r.headers().firstValue("x-origin").orElseThrow());
            }
            for (int i = 1; i < seen.size(); i++) {
                assertThat(seen.get(i)).as("request %d goes to the other endpoint", i).isNotEqualTo(seen.get(i - 1));
            }
            assertThat(s1.requests).hasSize(4);
            assertThat(s2.requests).hasSize(4);
        }
    }

    @Test
    void frontProxyRoutesByPrefixToStrictDnsClusters() throws Exception {
        try (TestOrigin s1 = new TestOrigin("service1"); TestOrigin s2 = new TestOrigin("service2");
             Proxy proxy = new Proxy(example("front-proxy.yaml", s1, s2))) {
            int port = proxy.server.listenerAddresses().get(0).getPort();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r1 = Proxy.CLIENT.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/service/1")).build(),
                        HttpResponse.BodyHandlers.ofString());
                HttpResponse<String> r2 = Proxy.CLIENT.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + "/service/2")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r1.body()).isEqualTo("service1 GET /service/1");
                assertThat(r2.body()).isEqualTo("service2 GET /service/2");
            }
            HttpResponse<String> none = Proxy.CLIENT.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/other")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(404);
            assertThat(proxy.admin("GET", "/clusters").body())
                    .contains("service1::127.0.0.1:" + s1.port() + "::hostname::localhost");
        }
    }
}
