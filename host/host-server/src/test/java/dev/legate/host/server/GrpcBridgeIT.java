package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.testing.integration.Messages.EchoStatus;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceImpl;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC for HTTP/1.1 clients, end to end: the JDK's HttpClient, forced to HTTP/1.1, calls a real grpc-java server
 * (the interop suite's {@code TestServiceImpl}, plus a byte-level service that fails after a message) through the
 * built distribution, whose cluster speaks HTTP/2 upstream.
 * gRPC-Web is also called over HTTP/2 (curl with prior knowledge).
 * <ul>
 *   <li>listener {@code bridge}: {@code envoy.filters.http.grpc_http1_bridge} ({@code upgrade_protobuf_to_grpc},
 *       {@code ignore_query_parameters}) — a length-prefixed message POSTed as {@code application/grpc} comes back
 *       with {@code grpc-status}/{@code grpc-message} as response headers;</li>
 *   <li>listener {@code bridge_small}: the bridge with {@code per_connection_buffer_limit_bytes: 1024}, so that a
 *       held response goes over the limit;</li>
 *   <li>routes {@code /empty/} (a cluster without hosts) and {@code /dur/} ({@code grpc_timeout_header_max: 0s})
 *       for local replies to upgraded requests;</li>
 *   <li>listener {@code web}: {@code envoy.filters.http.grpc_web} — binary and text gRPC-Web, unary and server
 *       streaming, trailers in the 0x80 trailer frame, errors as headers.</li>
 * </ul>
 */
class GrpcBridgeIT {

    static Origin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws IOException {
        origin = new Origin();
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

    static String config(int grpcPort) {
        String cluster = Proxy.staticCluster("grpc", "typed_extension_protocol_options: { "
                + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions: { "
                + "\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
                + "explicit_http_config: { http2_protocol_options: {} } } }", grpcPort);
        String routes = "{ virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ "
                + "{ match: { prefix: \"/empty/\" }, route: { cluster: empty } }, "
                + "{ match: { prefix: \"/dur/\" }, route: { cluster: grpc, prefix_rewrite: \"/\", "
                + "max_stream_duration: { grpc_timeout_header_max: 0s } } }, "
                + "{ match: { prefix: \"/\" }, route: { cluster: grpc } } ] } ] }";
        String empty = "{ name: empty, connect_timeout: 1s, type: STATIC, load_assignment: { cluster_name: empty } }";
        String bridge = "{ name: envoy.filters.http.grpc_http1_bridge, typed_config: { \"@type\": "
                + "type.googleapis.com/envoy.extensions.filters.http.grpc_http1_bridge.v3.Config, "
                + "upgrade_protobuf_to_grpc: true%s } }";
        String web = "{ name: envoy.filters.http.grpc_web, typed_config: { \"@type\": "
                + "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb } }";
        return """
                admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }
                static_resources:
                  listeners: [ %s, %s, %s ]
                  clusters: [ %s, %s ]
                """.formatted(
                listener("bridge", "", bridge.formatted(", ignore_query_parameters: true"), routes),
                listener("web", "", web, routes),
                listener("bridge_small", "per_connection_buffer_limit_bytes: 1024, ", bridge.formatted(""), routes),
                cluster, empty);
    }

    /** A listener on 127.0.0.1:0 whose HCM runs {@code filter} (a flow mapping), then the router. */
    private static String listener(String name, String extra, String filter, String routes) {
        return "{ name: " + name + ", " + extra
                + "address: { socket_address: { address: 127.0.0.1, port_value: 0 } }, "
                + "filter_chains: [ { filters: [ { name: envoy.filters.network.http_connection_manager, typed_config: { "
                + "\"@type\": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager, "
                + "stat_prefix: " + name + ", route_config: " + routes + ", http_filters: [ " + filter + ", "
                + "{ name: envoy.filters.http.router, typed_config: { "
                + "\"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router } } ] } } ] } ] }";
    }

    // ---------------------------------------------------------------- grpc_http1_bridge

    @Test
    void unaryCallOverHttp11GetsGrpcStatusAsHeaders() throws Exception {
        SimpleRequest req = SimpleRequest.newBuilder().setResponseSize(7).build();
        HttpResponse<byte[]> r = post("bridge", "/grpc.testing.TestService/UnaryCall", "application/grpc",
                null, frame(0, req.toByteArray()));
        assertThat(r.version()).isEqualTo(java.net.http.HttpClient.Version.HTTP_1_1);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("0");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc");
        List<byte[]> frames = frames(r.body());
        assertThat(frames).hasSize(1);
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(r.body().length);
        SimpleResponse resp = SimpleResponse.parseFrom(payload(frames.get(0)));
        assertThat(resp.getPayload().getBody().size()).isEqualTo(7);
    }

    @Test
    void trailersOnlyErrorComesBackAsHeaders() throws Exception {
        SimpleRequest req = SimpleRequest.newBuilder()
                .setResponseStatus(EchoStatus.newBuilder().setCode(5).setMessage("not here, 100%")).build();
        HttpResponse<byte[]> r = post("bridge", "/grpc.testing.TestService/UnaryCall", "application/grpc",
                null, frame(0, req.toByteArray()));
        // A trailers-only answer passes as it is (Envoy): 200 with the gRPC status in the headers.
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("5");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("not here, 100%25");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void errorAfterAMessageIs503WithTheTrailersAsHeaders() throws Exception {
        HttpResponse<byte[]> r = post("bridge", "/legate.test.Failing/Fail", "application/grpc", null,
                frame(0, "ping".getBytes(StandardCharsets.UTF_8)));
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("9");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("failed after ping");
        assertThat(frames(r.body())).hasSize(1);
        assertThat(new String(payload(frames(r.body()).get(0)), StandardCharsets.UTF_8)).isEqualTo("pong");
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(9);
    }

    @Test
    void unknownMethodIsUnimplemented() throws Exception {
        HttpResponse<byte[]> r = post("bridge", "/grpc.testing.TestService/NoSuchCall", "application/grpc", null,
                frame(0, new byte[0]));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("12");
    }

    @Test
    void protobufRequestIsUpgradedAndTheQueryIgnored() throws Exception {
        SimpleRequest req = SimpleRequest.newBuilder().setResponseSize(3).build();
        HttpResponse<byte[]> r = post("bridge", "/grpc.testing.TestService/UnaryCall?client=legacy",
                "application/x-protobuf", null, req.toByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("0");
        // the client gets the bare message, no gRPC frame
        assertThat(SimpleResponse.parseFrom(r.body()).getPayload().getBody().size()).isEqualTo(3);
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(r.body().length);
    }

    @Test
    void plainLocalReplyToAnUpgradedRequestArrivesWhole() throws Exception {
        // the request arrived as x-protobuf: the router's reply is plain HTTP, which the bridge must not unframe
        HttpResponse<byte[]> r = post("bridge", "/empty/grpc.testing.TestService/UnaryCall", "application/x-protobuf",
                null, SimpleRequest.newBuilder().setResponseSize(3).build().toByteArray());
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("no healthy upstream");
        assertThat(r.headers().firstValueAsLong("content-length")).hasValue(19);
        assertThat(r.headers().firstValue("grpc-status")).isEmpty();
    }

    @Test
    void upgradedRequestOverItsStreamDurationGetsAPlain504WithoutGrpcStatus() throws Exception {
        // the router sees application/grpc (rewritten) and asks for grpc-status 4; the request arrived as x-protobuf
        StreamingOutputCallRequest slow = StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(1).setIntervalUs(5_000_000)).build();
        HttpRequest request = HttpRequest.newBuilder(proxy.uri("bridge", "/dur/grpc.testing.TestService/StreamingOutputCall"))
                .timeout(Duration.ofSeconds(20)).header("content-type", "application/x-protobuf")
                .header("grpc-timeout", "200m")
                .POST(HttpRequest.BodyPublishers.ofByteArray(slow.toByteArray())).build();
        HttpResponse<String> r = Proxy.CLIENT.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain");
        assertThat(r.body()).isEqualTo("downstream duration timeout");
        assertThat(r.headers().firstValue("grpc-status")).isEmpty();
    }

    @Test
    void heldResponseOverTheBufferLimitIsAGrpcReplyForGrpcAndA500ForProtobuf() throws Exception {
        SimpleRequest big = SimpleRequest.newBuilder().setResponseSize(4096).build();
        HttpResponse<byte[]> grpc = post("bridge_small", "/grpc.testing.TestService/UnaryCall", "application/grpc",
                null, frame(0, big.toByteArray()));
        assertThat(grpc.statusCode()).isEqualTo(200);
        assertThat(grpc.headers().firstValue("grpc-status")).hasValue("2");
        assertThat(grpc.headers().firstValue("grpc-message")).hasValue("Internal Server Error");
        assertThat(grpc.body()).isEmpty();

        HttpResponse<byte[]> protobuf = post("bridge_small", "/grpc.testing.TestService/UnaryCall",
                "application/x-protobuf", null, big.toByteArray());
        assertThat(protobuf.statusCode()).isEqualTo(500);
        assertThat(new String(protobuf.body(), StandardCharsets.UTF_8)).isEqualTo("Internal Server Error");
        assertThat(protobuf.headers().firstValue("grpc-status")).isEmpty();
    }

    // ---------------------------------------------------------------- grpc_web

    @Test
    void grpcWebBinaryUnary() throws Exception {
        SimpleRequest req = SimpleRequest.newBuilder().setResponseSize(5).build();
        HttpResponse<byte[]> r = post("web", "/grpc.testing.TestService/UnaryCall", "application/grpc-web+proto",
                "application/grpc-web", frame(0, req.toByteArray()));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc-web+proto");
        List<byte[]> frames = frames(r.body());
        assertThat(frames).hasSize(2);
        assertThat(SimpleResponse.parseFrom(payload(frames.get(0))).getPayload().getBody().size()).isEqualTo(5);
        assertThat(frames.get(1)[0]).isEqualTo((byte) 0x80);
        assertThat(new String(payload(frames.get(1)), StandardCharsets.ISO_8859_1)).startsWith("grpc-status:0\r\n");
    }

    @Test
    void grpcWebTextServerStreaming() throws Exception {
        StreamingOutputCallRequest req = StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(1))
                .addResponseParameters(ResponseParameters.newBuilder().setSize(2))
                .addResponseParameters(ResponseParameters.newBuilder().setSize(3)).build();
        String body = Base64.getEncoder().encodeToString(frame(0, req.toByteArray()));
        HttpResponse<byte[]> r = post("web", "/grpc.testing.TestService/StreamingOutputCall",
                "application/grpc-web-text", "application/grpc-web-text", body.getBytes(StandardCharsets.US_ASCII));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc-web-text+proto");
        String text = new String(r.body(), StandardCharsets.US_ASCII);
        assertThat(text).matches("[A-Za-z0-9+/=]+");
        List<byte[]> frames = frames(decodeBase64Blocks(text));
        assertThat(frames).hasSize(4);
        for (int i = 0; i < 3; i++) {
            assertThat(StreamingOutputCallResponse.parseFrom(payload(frames.get(i))).getPayload().getBody().size())
                    .isEqualTo(i + 1);
        }
        assertThat(frames.get(3)[0]).isEqualTo((byte) 0x80);
        assertThat(new String(payload(frames.get(3)), StandardCharsets.ISO_8859_1)).startsWith("grpc-status:0\r\n");
    }

    @Test
    void grpcWebErrorsArriveAsHeaders() throws Exception {
        HttpResponse<byte[]> r = post("web", "/grpc.testing.TestService/NoSuchCall", "application/grpc-web",
                null, frame(0, new byte[0]));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("12");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/grpc-web+proto");
    }

    @Test
    void grpcWebBadBase64Is400() throws Exception {
        HttpResponse<byte[]> r = post("web", "/grpc.testing.TestService/UnaryCall", "application/grpc-web-text",
                "application/grpc-web-text", "AAAA*".getBytes(StandardCharsets.US_ASCII));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("grpc-status")).hasValue("13");
        assertThat(r.headers().firstValue("grpc-message")).hasValue("Bad gRPC-web request, invalid base64 data.");
    }

    @Test
    void grpcWebTextOverHttp2DownstreamWithCurl() throws Exception {
        SimpleRequest req = SimpleRequest.newBuilder().setResponseSize(4).build();
        String body = Base64.getEncoder().encodeToString(frame(0, req.toByteArray()));
        Process p = new ProcessBuilder("curl", "-sS", "-i", "--http2-prior-knowledge", "-m", "10",
                "-H", "content-type: application/grpc-web-text", "-H", "accept: application/grpc-web-text",
                "-H", "x-grpc-web: 1", "--data-binary", body,
                proxy.uri("web", "/grpc.testing.TestService/UnaryCall").toString())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(out).startsWith("HTTP/2 200").contains("content-type: application/grpc-web-text+proto");
        String text = out.substring(out.indexOf("\r\n\r\n") + 4);
        List<byte[]> frames = frames(decodeBase64Blocks(text));
        assertThat(frames).hasSize(2);
        assertThat(SimpleResponse.parseFrom(payload(frames.get(0))).getPayload().getBody().size()).isEqualTo(4);
        assertThat(new String(frames.get(1), StandardCharsets.ISO_8859_1))
                .startsWith("\u0080").contains("grpc-status:0\r\n");
    }

    // ---------------------------------------------------------------- helpers

    /** POSTs over HTTP/1.1; bounded: a response whose body never completes (a stale content-length) fails. */
    static HttpResponse<byte[]> post(String listener, String path, String contentType, String accept, byte[] body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(proxy.uri(listener, path)).timeout(Duration.ofSeconds(20))
                .header("content-type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (accept != null) {
            b.header("accept", accept);
        }
        return Proxy.CLIENT.sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray()).get(20, TimeUnit.SECONDS);
    }

    /** A gRPC length-prefixed message. */
    static byte[] frame(int flags, byte[] message) {
        return ByteBuffer.allocate(5 + message.length).put((byte) flags).putInt(message.length).put(message).array();
    }

    /** The frames of a body, each with its 5-byte header; fails on a cut frame. */
    static List<byte[]> frames(byte[] body) {
        List<byte[]> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(body);
        while (b.hasRemaining()) {
            assertThat(b.remaining()).as("a whole frame header").isGreaterThanOrEqualTo(5);
            int length = b.getInt(b.position() + 1);
            byte[] f = new byte[5 + length];
            b.get(f);
            out.add(f);
        }
        return out;
    }

    static byte[] payload(byte[] frame) {
        return java.util.Arrays.copyOfRange(frame, 5, frame.length);
    }

    /** gRPC-Web text bodies are padded base64 blocks one after the other: each group of 4 decodes on its own. */
    static byte[] decodeBase64Blocks(String text) {
        assertThat(text.length() % 4).isZero();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < text.length(); i += 4) {
            out.writeBytes(Base64.getDecoder().decode(text.substring(i, i + 4)));
        }
        return out.toByteArray();
    }

    /**
     * A grpc-java server on 127.0.0.1 (plaintext HTTP/2): the interop {@code TestServiceImpl}, and
     * {@code legate.test.Failing/Fail}, a server-streaming method over raw bytes that answers {@code pong} and then
     * fails with FAILED_PRECONDITION (9), so that trailers with an error follow a message.
     */
    static final class Origin implements AutoCloseable {
        private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2);
        private final Server server;

        Origin() throws IOException {
            MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
                @Override
                public InputStream stream(byte[] value) {
                    return new ByteArrayInputStream(value);
                }

                @Override
                public byte[] parse(InputStream stream) {
                    try {
                        return stream.readAllBytes();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            };
            MethodDescriptor<byte[], byte[]> fail = MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                    .setFullMethodName("legate.test.Failing/Fail")
                    .setRequestMarshaller(bytes).setResponseMarshaller(bytes).build();
            ServerServiceDefinition failing = ServerServiceDefinition.builder("legate.test.Failing")
                    .addMethod(fail, ServerCalls.asyncServerStreamingCall((req, obs) -> {
                        obs.onNext("pong".getBytes(StandardCharsets.UTF_8));
                        obs.onError(Status.FAILED_PRECONDITION
                                .withDescription("failed after " + new String(req, StandardCharsets.UTF_8))
                                .asRuntimeException());
                    }))
                    .build();
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(new TestServiceImpl(executor))
                    .addService(failing)
                    .build().start();
        }

        int port() {
            return server.getPort();
        }

        @Override
        public void close() {
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor.shutdownNow();
        }
    }
}
