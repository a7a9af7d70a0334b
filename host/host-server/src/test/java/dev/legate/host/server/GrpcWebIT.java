package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.grpc.Server;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC-Web through Legate ({@code envoy.filters.http.grpc_web}, then {@code envoy.filters.http.cors}, then the
 * router; HTTP/1.1 downstream, HTTP/2 to the cluster) to a real grpc-java server, with real gRPC-Web clients run by
 * Node: Google's {@code grpc-web} runtime (over {@code xhr2}'s XMLHttpRequest) in text
 * ({@code application/grpc-web-text}) and binary ({@code application/grpc-web+proto}) mode, unary, server streaming
 * and an error status; and {@code @connectrpc/connect-node}'s gRPC-Web transport (binary) as a second client, unary
 * and server streaming. Messages on the Node side come from the interop suite's descriptors, which this test writes
 * as a {@code FileDescriptorSet}. The wire format (the 0x80 trailer frame, errors as headers) and a CORS preflight
 * are checked with the JDK's HttpClient.
 */
class GrpcWebIT {

    static final String APP = "https://app.example";
    static final String GRPC_WEB_PROTO = "application/grpc-web+proto";

    @TempDir
    static Path tmp;
    static ScheduledExecutorService executor;
    static Server server;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        executor = Executors.newScheduledThreadPool(1);
        server = GrpcSupport.server(new GrpcJavaIT.Service(executor).definition());
        String routes = """
                { virtual_hosts: [ { name: web, domains: ["*"],
                    typed_per_filter_config: { envoy.filters.http.cors: {
                      "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy,
                      allow_origin_string_match: [ { exact: "%s" } ],
                      allow_methods: "GET, PUT, DELETE, POST, OPTIONS",
                      allow_headers: "keep-alive,user-agent,cache-control,content-type,content-transfer-encoding,x-accept-content-transfer-encoding,x-accept-response-streaming,x-user-agent,x-grpc-web,grpc-timeout",
                      expose_headers: "grpc-status,grpc-message", max_age: "1728000" } },
                    routes: [
                      { match: { prefix: "/grpc.testing.TestService/" }, route: { cluster: grpc, timeout: 0s } },
                      { match: { prefix: "/grpc.testing.UnimplementedService/" }, route: { cluster: empty } } ] } ] }"""
                .formatted(APP);
        String clusters = "[ " + GrpcSupport.h2Cluster("grpc", "", server.getPort())
                + ", { name: empty, connect_timeout: 1s, type: STATIC, load_assignment: { cluster_name: empty } } ]";
        proxy = new Proxy(GrpcSupport.config("AUTO", routes, clusters,
                "{ name: envoy.filters.http.grpc_web, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb } }",
                "{ name: envoy.filters.http.cors, typed_config: { \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors } }"));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (proxy != null) {
            proxy.close();
        }
        GrpcSupport.shutdown(server);
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    @Test
    void grpcWebAndConnectClientsCallAGrpcJavaServerThroughLegate() throws Exception {
        Path descriptors = tmp.resolve("test.desc");
        Files.write(descriptors, descriptorSet(io.grpc.testing.integration.Test.getDescriptor()).toByteArray());
        NodeScripts.Result r = NodeScripts.run(90, "grpc-web-client.mjs",
                "http://127.0.0.1:" + proxy.port("listener_0"), descriptors.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();

        byte[] sent = new byte[1000];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = (byte) (i * 7);
        }
        String received = GrpcJavaIT.sha256(ByteString.copyFrom(sent));
        String stream = body(1000) + "," + body(20000) + "," + body(3);
        assertThat(r.lines("RESULT ")).as(r.toString()).containsExactly(
                "RESULT web-unary-text status=0 size=3000 body=" + sha(3000) + " received=" + received,
                "RESULT web-error-text code=5 message=no such thing",
                "RESULT web-unary-binary status=0 size=3000 body=" + sha(3000) + " received=" + received,
                "RESULT web-error-binary code=5 message=no such thing",
                "RESULT web-stream-text status=0 error=none messages=" + stream,
                "RESULT web-stream-binary status=0 error=none messages=" + stream,
                "RESULT connect-unary size=70000 body=" + sha(70000) + " received=" + received,
                "RESULT connect-stream messages=" + stream);
    }

    @Test
    void trailersBecomeTheTrailerFrameAndCorsHeadersAreAdded() throws Exception {
        byte[] message = SimpleRequest.newBuilder().setResponseSize(5).build().toByteArray();
        HttpResponse<byte[]> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0",
                        "/grpc.testing.TestService/UnaryCall"))
                .timeout(Duration.ofSeconds(20)).header("content-type", GRPC_WEB_PROTO).header("x-grpc-web", "1")
                .header("origin", APP).POST(HttpRequest.BodyPublishers.ofByteArray(frame(0, message))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue(GRPC_WEB_PROTO);
        assertThat(r.headers().firstValue("access-control-allow-origin")).hasValue(APP);
        assertThat(r.headers().firstValue("access-control-expose-headers")).hasValue("grpc-status,grpc-message");
        ByteBuffer body = ByteBuffer.wrap(r.body());
        assertThat(body.get()).as("data frame flag").isZero();
        byte[] data = new byte[body.getInt()];
        body.get(data);
        assertThat(SimpleResponse.parseFrom(data).getPayload()).isEqualTo(GrpcJavaIT.payload(5, 5));
        assertThat(body.get()).as("trailer frame flag").isEqualTo((byte) 0x80);
        byte[] trailers = new byte[body.getInt()];
        body.get(trailers);
        assertThat(body.hasRemaining()).isFalse();
        assertThat(new String(trailers, StandardCharsets.US_ASCII)).startsWith("grpc-status:0\r\n").endsWith("\r\n");
    }

    @Test
    void aLocalReplyBecomesGrpcStatusHeaders() throws Exception {
        HttpResponse<byte[]> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0",
                        "/grpc.testing.UnimplementedService/UnimplementedCall"))
                .timeout(Duration.ofSeconds(20)).header("content-type", GRPC_WEB_PROTO).header("x-grpc-web", "1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(frame(0, new byte[0]))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        // Envoy's 503 "no healthy upstream" turned into a gRPC-Web error: grpc-status 14, the body as grpc-message
        assertThat(r.headers().firstValue("grpc-status")).hasValue("14");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("no healthy upstream");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void corsPreflightForGrpcWebIsAnsweredByTheCorsFilter() throws Exception {
        HttpResponse<String> r = Proxy.CLIENT.send(HttpRequest.newBuilder(proxy.uri("listener_0",
                        "/grpc.testing.TestService/UnaryCall"))
                .timeout(Duration.ofSeconds(20)).method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("origin", APP).header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type,x-grpc-web,x-user-agent").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("access-control-allow-origin")).hasValue(APP);
        assertThat(r.headers().firstValue("access-control-allow-methods")).hasValue("GET, PUT, DELETE, POST, OPTIONS");
        assertThat(r.headers().firstValue("access-control-allow-headers")).hasValueSatisfying(
                h -> assertThat(Arrays.asList(h.split(","))).contains("x-grpc-web", "x-user-agent", "content-type"));
        assertThat(r.headers().firstValue("access-control-max-age")).hasValue("1728000");
    }

    @Test
    void theGrpcExampleConfigCarriesGrpcAndGrpcWeb() throws Exception {
        String yaml = Files.readString(CliIT.REPO.resolve("configs/grpc-example.yaml"))
                .replace("port_value: 10000", "port_value: 0").replace("port_value: 9901", "port_value: 0")
                .replace("port_value: 50051", "port_value: " + server.getPort());
        assertThat(yaml).doesNotContain("port_value: 10000", "port_value: 9901", "port_value: 50051");
        try (Proxy example = new Proxy(yaml)) {
            io.grpc.ManagedChannel channel = GrpcSupport.channel(example.port("grpc"));
            try {
                SimpleResponse native_ = io.grpc.testing.integration.TestServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS)
                        .unaryCall(SimpleRequest.newBuilder().setResponseSize(7).build());
                assertThat(native_.getPayload()).isEqualTo(GrpcJavaIT.payload(7, 7));
            } finally {
                GrpcSupport.shutdown(channel);
            }
            HttpResponse<byte[]> web = Proxy.CLIENT.send(HttpRequest.newBuilder(example.uri("grpc",
                            "/grpc.testing.TestService/UnaryCall"))
                    .timeout(Duration.ofSeconds(20)).header("content-type", GRPC_WEB_PROTO).header("x-grpc-web", "1")
                    .header("origin", "http://localhost:8080")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(frame(0, SimpleRequest.newBuilder().setResponseSize(7)
                            .build().toByteArray()))).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(web.statusCode()).isEqualTo(200);
            assertThat(web.headers().firstValue("access-control-allow-origin")).hasValue("http://localhost:8080");
            assertThat(new String(web.body(), StandardCharsets.ISO_8859_1)).contains("grpc-status:0\r\n");
            assertThat(example.counter("cluster.grpc_backend.grpc.grpc.testing.TestService.UnaryCall.success")).isEqualTo(2);
            assertThat(example.counter("cluster.grpc_backend.grpc.grpc.testing.TestService.UnaryCall.total")).isEqualTo(2);
        }
    }

    static String sha(int size) {
        return GrpcJavaIT.sha256(GrpcJavaIT.payload(size, size).getBody());
    }

    static String body(int size) {
        return size + ":" + sha(size);
    }

    /** A gRPC length-prefixed message: flag byte, 4-byte big-endian length, the bytes. */
    static byte[] frame(int flag, byte[] message) {
        return ByteBuffer.allocate(5 + message.length).put((byte) flag).putInt(message.length).put(message).array();
    }

    static FileDescriptorSet descriptorSet(FileDescriptor root) {
        FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
        add(root, set, new HashSet<>());
        return set.build();
    }

    private static void add(FileDescriptor file, FileDescriptorSet.Builder set, Set<String> seen) {
        if (seen.add(file.getName())) {
            for (FileDescriptor d : file.getDependencies()) {
                add(d, set, seen);
            }
            set.addFile(file.toProto());
        }
    }
}
