package dev.legate.host.server;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.TestServiceImpl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Shared pieces of the gRPC integration tests: real grpc-java servers and channels on 127.0.0.1, and the Envoy
 * YAML a user writes to put Legate in front of them (a listener whose HCM has {@code codec_type} AUTO, and a
 * cluster that speaks HTTP/2 by {@code typed_extension_protocol_options}).
 */
final class GrpcSupport {

    /** Large enough for the 4 MiB messages of the tests plus their protobuf framing. */
    static final int MAX_MESSAGE = 16 << 20;

    private GrpcSupport() {
    }

    /** A grpc-java server (Netty transport, plaintext) on 127.0.0.1, an ephemeral port, serving {@code service}. */
    static Server server(ServerServiceDefinition service) {
        try {
            return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .maxInboundMessageSize(MAX_MESSAGE).addService(service).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The interop suite's service as {@code TestServiceServer} serves it: {@link TestServiceImpl} behind its
     * interceptors (which echo the custom metadata the {@code custom_metadata} case checks), on 127.0.0.1.
     */
    static Server interopServer(ScheduledExecutorService executor) {
        try {
            return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .maxInboundMessageSize(MAX_MESSAGE)
                    .addService(ServerInterceptors.intercept(new TestServiceImpl(executor), TestServiceImpl.interceptors()))
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plaintext HTTP/2 (prior knowledge) channel to 127.0.0.1:{@code port}. */
    static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE).build();
    }

    static void shutdown(ManagedChannel channel) throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static void shutdown(Server server) throws InterruptedException {
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /**
     * A STATIC cluster (flow mapping) that Legate reaches over HTTP/2, as Envoy's docs configure it:
     * {@code typed_extension_protocol_options} with {@code explicit_http_config.http2_protocol_options}
     * ({@code h2Options}: the inside of that mapping, may be empty).
     */
    static String h2Cluster(String name, String h2Options, int... ports) {
        return Proxy.staticCluster(name, """
                typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {
                  "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions,
                  explicit_http_config: { http2_protocol_options: { %s } } } }""".formatted(h2Options), ports);
    }

    /**
     * A bootstrap with one listener {@code listener_0} (HCM {@code stat_prefix: ingress_http}, the given
     * {@code codec_type}, route config and HTTP filters ahead of the router, each one YAML flow mapping) and the
     * given clusters (a YAML flow sequence).
     */
    static String config(String codecType, String routeConfig, String clusters, String... filtersBeforeRouter) {
        StringBuilder filters = new StringBuilder();
        for (String f : filtersBeforeRouter) {
            filters.append("\n          - ").append(f);
        }
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
                          codec_type: %s
                          route_config: %s
                          http_filters:%s
                          - name: envoy.filters.http.router
                            typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
                  clusters: %s
                """.formatted(codecType, routeConfig, filters, clusters);
    }
}
