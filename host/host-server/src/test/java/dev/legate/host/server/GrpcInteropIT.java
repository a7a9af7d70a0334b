package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThatCode;

import io.grpc.Server;
import io.grpc.testing.integration.TestServiceClient;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The gRPC interop suite ({@code io.grpc:grpc-interop-testing}) through Legate: its service
 * ({@code TestServiceImpl} with the interceptors {@code TestServiceServer} installs) behind Legate, and its
 * {@code TestServiceClient} (run in this JVM through its {@code main}, which throws when a case fails) connected to
 * Legate's listener over plaintext HTTP/2. Legate detects the client's HTTP/2 preface ({@code codec_type} AUTO) and
 * speaks HTTP/2 to the cluster. Each case is one test, named after the case: the fourteen the issue names, then
 * compression, a very large request and the two soak cases (ten calls on one channel, ten channels). Left out:
 * {@code client_compressed_unary}/{@code _streaming} (their probe fails against grpc-java's own server without a
 * proxy too), credentials and ORCA cases (Google services, load reports), {@code cacheable_unary} (needs a caching
 * proxy), {@code pick_first_unary} (several backends).
 */
class GrpcInteropIT {

    static ScheduledExecutorService executor;
    static Server server;
    static Proxy proxy;

    @BeforeAll
    static void start() {
        executor = Executors.newSingleThreadScheduledExecutor();
        server = GrpcSupport.interopServer(executor);
        String routes = """
                { virtual_hosts: [ { name: grpc, domains: ["*"], routes: [
                  { match: { prefix: "/" }, route: { cluster: interop, timeout: 0s } } ] } ] }""";
        proxy = new Proxy(GrpcSupport.config("AUTO", routes,
                "[ " + GrpcSupport.h2Cluster("interop", "", server.getPort()) + " ]"));
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "empty_unary", "large_unary", "client_streaming", "server_streaming", "ping_pong", "empty_stream",
        "cancel_after_begin", "cancel_after_first_response", "timeout_on_sleeping_server", "status_code_and_message",
        "special_status_message", "custom_metadata", "unimplemented_method", "unimplemented_service",
        "server_compressed_unary", "server_compressed_streaming", "client_compressed_unary_noprobe",
        "client_compressed_streaming_noprobe", "very_large_request", "rpc_soak", "channel_soak"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void interopCasePassesThroughLegate(String testCase) {
        String[] args = {
            "--server_host=127.0.0.1", "--server_port=" + proxy.port("listener_0"), "--use_tls=false",
            "--test_case=" + testCase};
        assertThatCode(() -> TestServiceClient.main(args)).as(testCase).doesNotThrowAnyException();
    }
}
