package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.integration.EmptyProtos;
import io.grpc.testing.integration.Messages.Payload;
import io.grpc.testing.integration.Messages.ResponseParameters;
import io.grpc.testing.integration.Messages.SimpleRequest;
import io.grpc.testing.integration.Messages.SimpleResponse;
import io.grpc.testing.integration.Messages.StreamingInputCallRequest;
import io.grpc.testing.integration.Messages.StreamingInputCallResponse;
import io.grpc.testing.integration.Messages.StreamingOutputCallRequest;
import io.grpc.testing.integration.Messages.StreamingOutputCallResponse;
import io.grpc.testing.integration.TestServiceGrpc;
import io.grpc.testing.integration.UnimplementedServiceGrpc;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * grpc-java end to end through Legate: a real grpc-java server (Netty transport) behind Legate, whose cluster
 * speaks HTTP/2, and a real grpc-java client connected to Legate's listener ({@code codec_type} AUTO, so the
 * client's HTTP/2 prior-knowledge preface selects the HTTP/2 codec). The service is this test's own
 * implementation of the interop suite's {@code grpc.testing.TestService}, so the test can see what the server
 * saw: cancellations, and how far a server stream got ahead of a client that stopped reading.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcJavaIT {

    static final int MIB = 1 << 20;
    /** Size of each message of the slow reader's stream. */
    static final int SLOW_CHUNK = 64 << 10;
    /** The most the slow reader's stream can carry: far more than any buffer on the way. */
    static final long SLOW_TOTAL = 1L << 30;
    /**
     * What the server may get ahead of a client that reads nothing: the client's window (1 MiB, fixed below),
     * Legate's buffer limit (1 MiB) and upstream stream window (1 MiB, set in the cluster's options), grpc-java's
     * own buffers and the loopback socket buffers — a few MiB. Without back-pressure the server would push
     * hundreds of MiB in the pause.
     */
    static final long SLOW_BOUND = 32L * MIB;

    static ScheduledExecutorService executor;
    static Service service;
    static Server server;
    static Proxy proxy;
    ManagedChannel channel;

    @BeforeAll
    static void start() {
        executor = Executors.newScheduledThreadPool(2);
        service = new Service(executor);
        server = GrpcSupport.server(service.definition());
        String routes = """
                { virtual_hosts: [ { name: grpc, domains: ["*"], routes: [
                  { match: { prefix: "/grpc.testing.TestService/", headers: [ { name: x-route, string_match: { exact: capped } } ] },
                    route: { cluster: grpc, timeout: 0s, max_grpc_timeout: 0.3s } },
                  { match: { prefix: "/grpc.testing.TestService/" }, route: { cluster: grpc, timeout: 0s } },
                  { match: { prefix: "/grpc.testing.UnimplementedService/" }, route: { cluster: empty, timeout: 0s } } ] } ] }""";
        String clusters = "[ " + GrpcSupport.h2Cluster("grpc",
                "initial_stream_window_size: 1048576, initial_connection_window_size: 1048576", server.getPort())
                + ", { name: empty, connect_timeout: 1s, type: STATIC, load_assignment: { cluster_name: empty },"
                + " typed_extension_protocol_options: { envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"
                + " \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions,"
                + " explicit_http_config: { http2_protocol_options: {} } } } } ]";
        proxy = new Proxy(GrpcSupport.config("AUTO", routes, clusters));
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

    @BeforeEach
    void connect() {
        channel = GrpcSupport.channel(proxy.port("listener_0"));
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        GrpcSupport.shutdown(channel);
    }

    TestServiceGrpc.TestServiceBlockingStub blocking() {
        return TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @Test
    void unaryCallGoesThroughLegateOverHttp2BothWays() {
        SimpleResponse r = blocking().unaryCall(SimpleRequest.newBuilder().setResponseSize(10)
                .setPayload(payload(100, 1)).build());
        assertThat(r.getPayload().getBody().size()).isEqualTo(10);
        assertThat(r.getHostname()).isEqualTo(sha256(payload(100, 1).getBody()));
        assertThat(proxy.counter("http.ingress_http.downstream_cx_http2_total")).isGreaterThanOrEqualTo(1);
        assertThat(proxy.counter("http.ingress_http.downstream_rq_http1_total")).isZero();
        assertThat(proxy.counter("cluster.grpc.upstream_rq_total")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void serverStreamingDeliversEveryMessageInOrder() {
        StreamingOutputCallRequest.Builder req = StreamingOutputCallRequest.newBuilder();
        for (int i = 1; i <= 50; i++) {
            req.addResponseParameters(ResponseParameters.newBuilder().setSize(i * 1000));
        }
        List<Integer> sizes = new ArrayList<>();
        blocking().streamingOutputCall(req.build()).forEachRemaining(m -> sizes.add(m.getPayload().getBody().size()));
        assertThat(sizes).hasSize(50);
        for (int i = 0; i < 50; i++) {
            assertThat(sizes.get(i)).isEqualTo((i + 1) * 1000);
        }
    }

    @Test
    void clientStreamingSumsEveryMessage() throws Exception {
        Outcome<StreamingInputCallResponse> outcome = new Outcome<>();
        StreamObserver<StreamingInputCallRequest> requests = TestServiceGrpc.newStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS).streamingInputCall(outcome);
        long total = 0;
        for (int i = 1; i <= 100; i++) {
            requests.onNext(StreamingInputCallRequest.newBuilder().setPayload(payload(i * 300, i)).build());
            total += i * 300;
        }
        requests.onCompleted();
        assertThat(outcome.await().getAggregatedPayloadSize()).isEqualTo(total);
    }

    @Test
    void bidiEchoesEachMessageBeforeTheNextIsSent() throws Exception {
        LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        StreamObserver<StreamingOutputCallRequest> requests = TestServiceGrpc.newStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS).fullDuplexCall(new StreamObserver<>() {
                    @Override
                    public void onNext(StreamingOutputCallResponse value) {
                        received.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        received.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        received.add("completed");
                    }
                });
        for (int i = 1; i <= 20; i++) {
            requests.onNext(StreamingOutputCallRequest.newBuilder().setPayload(payload(i * 10, i)).build());
            Object echo = received.poll(10, TimeUnit.SECONDS);  // ping-pong: the answer comes before the next ping
            assertThat(echo).as("echo %d", i).isInstanceOf(StreamingOutputCallResponse.class);
            assertThat(((StreamingOutputCallResponse) echo).getPayload()).isEqualTo(payload(i * 10, i));
        }
        requests.onCompleted();
        assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("completed");
    }

    @Test
    void fourMebibyteMessagesBothWays() {
        Payload big = payload(4 * MIB, 7);
        SimpleResponse r = blocking().unaryCall(SimpleRequest.newBuilder().setPayload(big).setResponseSize(4 * MIB).build());
        assertThat(r.getHostname()).as("sha-256 of what the server received").isEqualTo(sha256(big.getBody()));
        assertThat(r.getPayload().getBody()).isEqualTo(payload(4 * MIB, 4 * MIB).getBody());

        StreamingOutputCallRequest.Builder req = StreamingOutputCallRequest.newBuilder();
        for (int i = 0; i < 3; i++) {
            req.addResponseParameters(ResponseParameters.newBuilder().setSize(4 * MIB));
        }
        Iterator<StreamingOutputCallResponse> it = blocking().streamingOutputCall(req.build());
        int n = 0;
        while (it.hasNext()) {
            assertThat(it.next().getPayload().getBody()).isEqualTo(payload(4 * MIB, 4 * MIB).getBody());
            n++;
        }
        assertThat(n).isEqualTo(3);
    }

    @Test
    void clientDeadlineEndsTheCallAndTheServerSeesTheCancel() throws Exception {
        blocking().emptyCall(EmptyProtos.Empty.getDefaultInstance());  // connections up: the deadline is all the call's
        CountDownLatch cancelled = service.expectCancel();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                .streamingOutputCall(sleepFor(10_000)).forEachRemaining(m -> { }))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(8_000);
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server saw the call cancelled").isTrue();
    }

    @Test
    void routeMaxGrpcTimeoutCapsALongerClientDeadline() throws Exception {
        blocking().emptyCall(EmptyProtos.Empty.getDefaultInstance());
        CountDownLatch cancelled = service.expectCancel();
        Metadata capped = new Metadata();
        capped.put(Metadata.Key.of("x-route", Metadata.ASCII_STRING_MARSHALLER), "capped");
        long t0 = System.nanoTime();
        // The client allows 20 s; the route caps grpc-timeout at 0.3 s, so Legate ends the call (a gRPC local reply,
        // HTTP 504 mapped to UNAVAILABLE as Envoy does) long before the client's deadline.
        assertThatThrownBy(() -> blocking().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(capped))
                .streamingOutputCall(sleepFor(10_000)).forEachRemaining(m -> { }))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(took).isBetween(250L, 8_000L);
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server saw the call cancelled").isTrue();
    }

    @Test
    void clientCancellationReachesTheServer() throws Exception {
        CountDownLatch cancelled = service.expectCancel();
        LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
        ClientCall<StreamingOutputCallRequest, StreamingOutputCallResponse> call =
                channel.newCall(TestServiceGrpc.getFullDuplexCallMethod(), CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(StreamingOutputCallResponse message) {
                received.add(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                received.add(status);
            }
        }, new Metadata());
        call.request(10);
        call.sendMessage(StreamingOutputCallRequest.newBuilder().setPayload(payload(10, 1)).build());
        assertThat(received.poll(10, TimeUnit.SECONDS)).isInstanceOf(StreamingOutputCallResponse.class);
        call.cancel("test cancels", null);
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server saw the call cancelled").isTrue();
    }

    @Test
    void aSlowReaderDoesNotMakeLegateBufferWithoutBound() throws Exception {
        // The client's own window is fixed at 1 MiB (no BDP auto-tuning) and it asks for one message only.
        ManagedChannel slow = io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", proxy.port("listener_0"))
                .usePlaintext().flowControlWindow(MIB).maxInboundMessageSize(GrpcSupport.MAX_MESSAGE).build();
        try {
            AtomicLong sent = service.startFlood();
            CountDownLatch first = new CountDownLatch(1);
            AtomicReference<ClientCallStreamObserver<StreamingOutputCallRequest>> requestStream = new AtomicReference<>();
            TestServiceGrpc.newStub(slow).withDeadlineAfter(30, TimeUnit.SECONDS).streamingOutputCall(
                    StreamingOutputCallRequest.newBuilder().setResponseType(io.grpc.testing.integration.Messages
                            .PayloadType.COMPRESSABLE).addResponseParameters(ResponseParameters.newBuilder()
                            .setSize(-1)).build(),
                    new ClientResponseObserver<StreamingOutputCallRequest, StreamingOutputCallResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<StreamingOutputCallRequest> stream) {
                            requestStream.set(stream);
                            stream.disableAutoRequestWithInitial(1);
                        }

                        @Override
                        public void onNext(StreamingOutputCallResponse value) {
                            first.countDown();  // ... and never asks for another
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            assertThat(first.await(10, TimeUnit.SECONDS)).as("the first message arrived").isTrue();
            Thread.sleep(3_000);
            long ahead = sent.get();
            assertThat(ahead).as("bytes the server sent while the client read nothing").isLessThan(SLOW_BOUND)
                    .isGreaterThan(SLOW_CHUNK);
            Thread.sleep(1_000);
            assertThat(sent.get() - ahead).as("the server is stalled, not merely slow").isLessThanOrEqualTo(2L * SLOW_CHUNK);
            requestStream.get().cancel("done", null);
        } finally {
            GrpcSupport.shutdown(slow);
        }
    }

    @Test
    void aClusterWithoutHostsIsAGrpcUnavailableLocalReply() {
        assertThatThrownBy(() -> UnimplementedServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .unimplementedCall(EmptyProtos.Empty.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    // HTTP 200, trailers-only, grpc-status 14, grpc-message = Envoy's local reply body
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).isEqualTo("no healthy upstream");
                });
    }

    @Test
    void noRouteIsAGrpcUnimplementedLocalReply() {
        io.grpc.MethodDescriptor<EmptyProtos.Empty, EmptyProtos.Empty> unrouted = TestServiceGrpc.getEmptyCallMethod()
                .toBuilder().setFullMethodName("grpc.testing.ReconnectService/Start").build();
        assertThatThrownBy(() -> io.grpc.stub.ClientCalls.blockingUnaryCall(channel, unrouted,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), EmptyProtos.Empty.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                    // a gRPC reply (grpc-status 12 on HTTP 200), not grpc-java's reading of a bare HTTP 404
                    assertThat(String.valueOf(e.getStatus().getDescription())).doesNotContain("HTTP status code");
                });
        assertThat(proxy.counter("http.ingress_http.no_route")).isGreaterThanOrEqualTo(1);
    }

    static StreamingOutputCallRequest sleepFor(int millis) {
        return StreamingOutputCallRequest.newBuilder()
                .addResponseParameters(ResponseParameters.newBuilder().setSize(1).setIntervalUs(millis * 1000)).build();
    }

    /** {@code size} bytes from a fixed seed: the same arguments give the same bytes. */
    static Payload payload(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return Payload.newBuilder().setBody(ByteString.copyFrom(b)).build();
    }

    static String sha256(ByteString bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A unary response observer the test thread waits on. */
    static final class Outcome<T> implements StreamObserver<T> {
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<Object> result = new AtomicReference<>();

        @Override
        public void onNext(T value) {
            result.set(value);
        }

        @Override
        public void onError(Throwable t) {
            result.set(t);
            done.countDown();
        }

        @Override
        public void onCompleted() {
            done.countDown();
        }

        @SuppressWarnings("unchecked")
        T await() throws Exception {
            assertThat(done.await(20, TimeUnit.SECONDS)).as("the call ended").isTrue();
            if (result.get() instanceof Throwable t) {
                throw new AssertionError("the call failed", t);
            }
            return (T) result.get();
        }
    }

    /**
     * The test's {@code grpc.testing.TestService}: unary answers {@code response_size} bytes (seeded by the size)
     * and the SHA-256 of the request payload in {@code hostname}, or fails with {@code response_status}; server streaming answers one message per
     * {@code response_parameters} after its {@code interval_us} (on {@code timers}, never a blocked thread), or — for
     * {@code size: -1} — floods 64 KiB messages as fast as flow control lets it, counting the bytes; client streaming
     * sums the payload sizes; bidi echoes each payload. {@link #definition()} reports cancelled calls.
     */
    static final class Service extends TestServiceGrpc.TestServiceImplBase {
        final ScheduledExecutorService timers;
        final AtomicReference<CountDownLatch> cancel = new AtomicReference<>(new CountDownLatch(1));
        final AtomicReference<AtomicLong> flood = new AtomicReference<>(new AtomicLong());

        Service(ScheduledExecutorService timers) {
            this.timers = timers;
        }

        CountDownLatch expectCancel() {
            CountDownLatch l = new CountDownLatch(1);
            cancel.set(l);
            return l;
        }

        AtomicLong startFlood() {
            AtomicLong a = new AtomicLong();
            flood.set(a);
            return a;
        }

        /**
         * The service behind an interceptor that reports every cancelled call to {@link #expectCancel()}'s latch,
         * including a call cancelled before its method ran (a deadline spent on the way).
         */
        ServerServiceDefinition definition() {
            return ServerInterceptors.intercept(this, new ServerInterceptor() {
                @Override
                public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                        ServerCallHandler<Q, R> next) {
                    CountDownLatch l = cancel.get();
                    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                        @Override
                        public void onCancel() {
                            l.countDown();
                            super.onCancel();
                        }
                    };
                }
            });
        }

        @Override
        public void emptyCall(EmptyProtos.Empty request, StreamObserver<EmptyProtos.Empty> out) {
            out.onNext(request);
            out.onCompleted();
        }

        @Override
        public void unaryCall(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            if (request.hasResponseStatus() && request.getResponseStatus().getCode() != 0) {
                out.onError(Status.fromCodeValue(request.getResponseStatus().getCode())
                        .withDescription(request.getResponseStatus().getMessage()).asRuntimeException());
                return;
            }
            out.onNext(SimpleResponse.newBuilder().setPayload(payload(request.getResponseSize(), request.getResponseSize()))
                    .setHostname(sha256(request.getPayload().getBody())).build());
            out.onCompleted();
        }

        @Override
        public void streamingOutputCall(StreamingOutputCallRequest request, StreamObserver<StreamingOutputCallResponse> out) {
            ServerCallStreamObserver<StreamingOutputCallResponse> call = (ServerCallStreamObserver<StreamingOutputCallResponse>) out;
            if (request.getResponseParametersCount() == 1 && request.getResponseParameters(0).getSize() == -1) {
                flood(call, flood.get());
                return;
            }
            sendNext(call, request.getResponseParametersList(), 0);
        }

        private void sendNext(ServerCallStreamObserver<StreamingOutputCallResponse> call, List<ResponseParameters> params, int i) {
            if (call.isCancelled()) {
                return;
            }
            if (i == params.size()) {
                call.onCompleted();
                return;
            }
            ResponseParameters p = params.get(i);
            Runnable send = () -> {
                synchronized (call) {
                    if (!call.isCancelled()) {
                        call.onNext(StreamingOutputCallResponse.newBuilder().setPayload(payload(p.getSize(), p.getSize())).build());
                    }
                }
                sendNext(call, params, i + 1);
            };
            if (p.getIntervalUs() > 0) {
                timers.schedule(send, p.getIntervalUs(), TimeUnit.MICROSECONDS);
            } else {
                send.run();
            }
        }

        private static void flood(ServerCallStreamObserver<StreamingOutputCallResponse> call, AtomicLong sent) {
            StreamingOutputCallResponse chunk = StreamingOutputCallResponse.newBuilder()
                    .setPayload(Payload.newBuilder().setBody(ByteString.copyFrom(new byte[SLOW_CHUNK]))).build();
            call.setOnReadyHandler(() -> {
                while (call.isReady() && !call.isCancelled() && sent.get() < SLOW_TOTAL) {
                    call.onNext(chunk);
                    sent.addAndGet(SLOW_CHUNK);
                }
                if (sent.get() >= SLOW_TOTAL && !call.isCancelled()) {
                    call.onCompleted();
                }
            });
        }

        @Override
        public StreamObserver<StreamingInputCallRequest> streamingInputCall(StreamObserver<StreamingInputCallResponse> out) {
            AtomicLong total = new AtomicLong();
            return new StreamObserver<>() {
                @Override
                public void onNext(StreamingInputCallRequest value) {
                    total.addAndGet(value.getPayload().getBody().size());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onNext(StreamingInputCallResponse.newBuilder().setAggregatedPayloadSize((int) total.get()).build());
                    out.onCompleted();
                }
            };
        }

        @Override
        public StreamObserver<StreamingOutputCallRequest> fullDuplexCall(StreamObserver<StreamingOutputCallResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(StreamingOutputCallRequest value) {
                    out.onNext(StreamingOutputCallResponse.newBuilder().setPayload(value.getPayload()).build());
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
