package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.testing.integration.EmptyProtos.Empty;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.TestServiceGrpc;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code envoy.filters.http.grpc_stats} end to end: a grpc-java client (HTTP/2, plaintext) calls the interop
 * {@code TestServiceImpl} through the built distribution; {@code /stats} then shows the per-method counters on the
 * route's cluster. Listener {@code all_methods} sets {@code stats_for_all_methods} and
 * {@code enable_upstream_stats}; listener {@code bucket} keeps Envoy's default, where every method shares
 * {@code cluster.<name>.grpc.*}. Each listener routes to its own cluster so the two sets do not mix.
 */
class GrpcStatsIT {

    private static final String METHODS = "cluster.grpc.grpc.grpc.testing.TestService.";

    static GrpcBridgeIT.Origin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        origin = new GrpcBridgeIT.Origin();
        proxy = new Proxy(config(origin.port()));
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

    private static String config(int grpcPort) {
        String h2 = "typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "
                + "\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
                + "explicit_http_config: { http2_protocol_options: {} } } }";
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners:
                  - name: all_methods
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: all_methods
                          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: grpc } } ] } ] }
                          http_filters:
                          - name: envoy.filters.http.grpc_stats
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig,
                                            stats_for_all_methods: true, enable_upstream_stats: true, emit_filter_state: true }
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  - name: bucket
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: bucket
                          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: grpc_bucket } } ] } ] }
                          http_filters:
                          - name: envoy.filters.http.grpc_stats
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig }
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: [ %s, %s ]
                """.formatted(Proxy.staticCluster("grpc", h2, grpcPort), Proxy.staticCluster("grpc_bucket", h2, grpcPort));
    }

    private static ManagedChannel channel(String listener) {
        return NettyChannelBuilder.forAddress("127.0.0.1", proxy.port(listener)).usePlaintext().build();
    }

    private static void shutdown(ManagedChannel ch) throws InterruptedException {
        ch.shutdownNow();
        ch.awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void perMethodCountersForEveryMethod() throws Exception {
        ManagedChannel ch = channel("all_methods");
        try {
            TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(20, TimeUnit.SECONDS);
            stub.emptyCall(Empty.getDefaultInstance());
            stub.unaryCall(SimpleRequest.newBuilder().setResponseSize(10).build());
            stub.unaryCall(SimpleRequest.newBuilder().setResponseSize(20).build());
            var it = stub.streamingOutputCall(StreamingOutputCallRequest.newBuilder()
                    .addResponseParameters(ResponseParameters.newBuilder().setSize(1))
                    .addResponseParameters(ResponseParameters.newBuilder().setSize(2))
                    .addResponseParameters(ResponseParameters.newBuilder().setSize(3)).build());
            int n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            assertThat(n).isEqualTo(3);
            assertThatThrownBy(() -> stub.unimplementedCall(Empty.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        } finally {
            shutdown(ch);
        }

        assertThat(proxy.counter(METHODS + "UnaryCall.success")).isEqualTo(2);
        assertThat(proxy.counter(METHODS + "UnaryCall.total")).isEqualTo(2);
        assertThat(proxy.counter(METHODS + "UnaryCall.0")).isEqualTo(2);
        assertThat(proxy.counter(METHODS + "UnaryCall.request_message_count")).isEqualTo(2);
        assertThat(proxy.counter(METHODS + "UnaryCall.response_message_count")).isEqualTo(2);
        assertThat(proxy.counter(METHODS + "EmptyCall.success")).isEqualTo(1);
        assertThat(proxy.counter(METHODS + "StreamingOutputCall.response_message_count")).isEqualTo(3);
        assertThat(proxy.counter(METHODS + "StreamingOutputCall.success")).isEqualTo(1);
        assertThat(proxy.counter(METHODS + "UnimplementedCall.failure")).isEqualTo(1);
        assertThat(proxy.counter(METHODS + "UnimplementedCall.12")).isEqualTo(1);
        assertThat(proxy.counter("cluster.grpc.grpc.total")).isZero();

        String stats = proxy.admin("GET", "/stats").body();
        assertThat(stats).contains(METHODS + "UnaryCall.success: 2")
                .contains(METHODS + "UnimplementedCall.failure: 1")
                .contains(METHODS + "UnaryCall.upstream_rq_time");
    }

    @Test
    void byDefaultMethodsShareOneBucket() throws Exception {
        ManagedChannel ch = channel("bucket");
        try {
            TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(20, TimeUnit.SECONDS);
            stub.emptyCall(Empty.getDefaultInstance());
            stub.unaryCall(SimpleRequest.newBuilder().setResponseSize(1).build());
        } finally {
            shutdown(ch);
        }
        assertThat(proxy.counter("cluster.grpc_bucket.grpc.success")).isEqualTo(2);
        assertThat(proxy.counter("cluster.grpc_bucket.grpc.total")).isEqualTo(2);
        assertThat(proxy.counter("cluster.grpc_bucket.grpc.request_message_count")).isEqualTo(2);
        assertThat(proxy.counter("cluster.grpc_bucket.grpc.response_message_count")).isEqualTo(2);
        assertThat(proxy.counter("cluster.grpc_bucket.grpc.grpc.testing.TestService.UnaryCall.total")).isZero();
    }
}
