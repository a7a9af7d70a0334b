package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The router's and the route table's gRPC behaviour end to end over HTTP/1.1 (the HTTP/2 codecs are tested
 * elsewhere): {@code match.grpc}, {@code grpc-timeout} under {@code max_grpc_timeout} and
 * {@code max_stream_duration.grpc_timeout_header_max}, and the trailers-only local replies a gRPC client gets.
 */
class GrpcRouteIT {

    static TestOrigin a;
    static TestOrigin b;
    static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        a = new TestOrigin("a");
        b = new TestOrigin("b");
        String routes = """
                { name: local_route, virtual_hosts: [ { name: all, domains: ["*"], routes: [
                  { match: { prefix: "/empty" }, route: { cluster: empty } },
                  { match: { prefix: "/echo", grpc: {} }, route: { cluster: a, max_grpc_timeout: 0.3s } },
                  { match: { prefix: "/slow", grpc: {} }, route: { cluster: a, max_grpc_timeout: 0.3s } },
                  { match: { prefix: "/dur", grpc: {} }, route: { cluster: a, prefix_rewrite: "/slow",
                      max_stream_duration: { grpc_timeout_header_max: 0s } } },
                  { match: { prefix: "/echo" }, route: { cluster: b } } ] } ] }
                """;
        String clusters = "[ " + Proxy.staticCluster("a", "", a.port()) + ", "
                + Proxy.staticCluster("b", "", b.port()) + ", "
                + "{ name: empty, connect_timeout: 1s, type: STATIC, load_assignment: { cluster_name: empty } } ]";
        proxy = new Proxy(Proxy.httpConfig(routes, clusters));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        a.close();
        b.close();
    }

    private static HttpResponse<String> post(String path, String contentType, String grpcTimeout)
            throws IOException, InterruptedException {
        HttpRequest.Builder r = HttpRequest.newBuilder(proxy.uri("listener_0", path)).timeout(Duration.ofSeconds(20))
                .header("content-type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {0, 0, 0, 0, 0}));
        if (grpcTimeout != null) {
            r.header("grpc-timeout", grpcTimeout);
        }
        return Proxy.CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue().get(0);
            }
        }
        return null;
    }

    private static void assertTrailersOnly(HttpResponse<String> r, String grpcStatus, String grpcMessage) {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc");
        assertThat(r.headers().firstValue("grpc-status")).hasValue(grpcStatus);
        assertThat(r.headers().firstValue("grpc-message").orElse("")).isEqualTo(grpcMessage);
        assertThat(r.body()).isEmpty();
    }

    @Test
    void grpcMatchSendsGrpcToItsRouteWithTheCappedGrpcTimeout() throws Exception {
        HttpResponse<String> r = post("/echo", "application/grpc", "10S");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("x-origin")).hasValue("a");
        Map<String, List<String>> seen = a.requestHeaders.get(a.requestHeaders.size() - 1);
        assertThat(header(seen, "grpc-timeout")).isEqualTo("300m");
        assertThat(header(seen, "x-envoy-expected-rq-timeout-ms")).isEqualTo("300");

        HttpResponse<String> plain = post("/echo", "application/json", "10S");
        assertThat(plain.headers().firstValue("x-origin")).as("not gRPC: the next route").hasValue("b");
        Map<String, List<String>> plainSeen = b.requestHeaders.get(b.requestHeaders.size() - 1);
        assertThat(header(plainSeen, "grpc-timeout")).isEqualTo("10S");
    }

    @Test
    void maxGrpcTimeoutAnswersUnavailableTrailersOnly() throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = post("/slow/5000", "application/grpc", "10S");
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrailersOnly(r, "14", "upstream request timeout");
        // wide bounds: 2 shared cores may stall the JVM, but neither the origin's 5 s nor the header's 10 s fits
        assertThat(tookMillis).as("the 0.3 s cap, not the 10 s header nor the 5 s origin").isBetween(250L, 3_999L);
    }

    @Test
    void grpcTimeoutHeaderMaxAnswersDeadlineExceeded() throws Exception {
        HttpResponse<String> r = post("/dur/1500", "application/grpc", "200m");
        assertTrailersOnly(r, "4", "downstream duration timeout");
        assertThat(proxy.counter("http.ingress_http.downstream_rq_max_duration_reached")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void routerLocalRepliesToGrpcAreTrailersOnlyWithMappedStatuses() throws Exception {
        assertTrailersOnly(post("/empty", "application/grpc", null), "14", "no healthy upstream");
        assertTrailersOnly(post("/nothing", "application/grpc", null), "12", "");

        HttpResponse<String> plain = post("/nothing", "application/json", null);
        assertThat(plain.statusCode()).isEqualTo(404);
        assertThat(plain.headers().firstValue("grpc-status")).isEmpty();
    }
}
