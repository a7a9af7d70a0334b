package dev.legate.filters.http.router;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.ResponseFlag;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.RouteEntry;
import dev.legate.filters.http.router.RouterFakes.FakeCallbacks;
import dev.legate.filters.http.router.RouterFakes.FakeCluster;
import dev.legate.filters.http.router.RouterFakes.FakeClusterManager;
import dev.legate.filters.http.router.RouterFakes.FakeHost;
import dev.legate.filters.http.router.RouterFakes.FakeRoute;
import dev.legate.filters.http.router.RouterFakes.FakeRouteEntry;
import dev.legate.filters.http.router.RouterFakes.FakeUpstreamStream;
import dev.legate.filters.http.router.RouterFakes.RecordingLogger;
import dev.legate.host.stats.StatsStore;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Filter-tier tests of the router's gRPC behaviour (Envoy's router.cc, retry_state_impl.cc and the HCM's
 * stream-duration timer): {@code grpc-timeout} under {@code max_grpc_timeout} and {@code max_stream_duration},
 * retries on {@code grpc-status}, {@code suppress_grpc_request_failure_code_stats}, trailers both ways.
 */
class RouterGrpcFilterTest {

    private final ManualDispatcher dispatcher = new ManualDispatcher(1_000_000);
    private final StatsStore store = new StatsStore();
    private final FakeClusterManager clusterManager = new FakeClusterManager();
    private final FakeCluster backend = new FakeCluster("backend", store.root());
    private final FakeCallbacks callbacks = new FakeCallbacks(dispatcher, clusterManager);
    private final FakeRouteEntry entry = new FakeRouteEntry();
    private final TestFactoryContext context = new TestFactoryContext(store).accessLogger(new RecordingLogger());
    private final List<ByteBuf> buffers = new ArrayList<>();
    private RouterFilter filter;

    @BeforeEach
    void setUp() {
        backend.hosts.add(new FakeHost("10.0.0.1", 8080, ""));
        backend.hosts.add(new FakeHost("10.0.0.2", 8080, ""));
        clusterManager.clusters.put("backend", backend);
        callbacks.route = new FakeRoute(entry, null);
        filter = newFilter(Router.getDefaultInstance());
    }

    @AfterEach
    void destroyAndCheckReleased() {
        filter.onDestroy();
        for (ByteBuf b : buffers) {
            assertThat(b.refCnt()).as("buffer released").isZero();
        }
        assertThat(backend.resources.requests).isZero();
        assertThat(backend.resources.retries).isZero();
        assertThat(store.gauge("cluster.backend.upstream_rq_active")).isZero();
        assertThat(dispatcher.pendingTasks()).as("timers left armed").isZero();
    }

    private RouterFilter newFilter(Router config) {
        return (RouterFilter) new RouterFilterFactory().create(config, RouterFakes.hcmContext(context))
                .newFilter(callbacks);
    }

    private static TestHeaderMap grpc(String grpcTimeout) {
        TestHeaderMap h = TestHeaderMap.of(HeaderMap.METHOD, "POST", HeaderMap.PATH, "/helloworld.Greeter/SayHello",
                HeaderMap.AUTHORITY, "example.com", HeaderMap.SCHEME, "http", "content-type", "application/grpc",
                "te", "trailers");
        if (grpcTimeout != null) {
            h.add("grpc-timeout", grpcTimeout);
        }
        return h;
    }

    private ByteBuf buf(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer();
        b.writeCharSequence(s, UTF_8);
        buffers.add(b);
        return b;
    }

    private void decodeData(String s, boolean endStream) {
        ByteBuf b = buf(s);
        filter.decodeData(b, endStream);
        b.release();
    }

    private static TestHeaderMap trailersOnly(String grpcStatus) {
        return TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc", "grpc-status", grpcStatus);
    }

    private static RetryPolicy retryOn(String retryOn, int numRetries) {
        return new RetryPolicy(Set.of(retryOn), numRetries, 0, Set.of(), 25, 250);
    }

    // max_grpc_timeout (Envoy's FilterUtility::finalTimeout)

    @Test
    void grpcTimeoutIsCappedByMaxGrpcTimeoutRewrittenUpstreamAndTimesOutWith504() {
        entry.maxGrpcTimeoutMillis = 5_000;
        filter.decodeHeaders(grpc("10S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();

        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "5000m")
                .containsEntry("x-envoy-expected-rq-timeout-ms", "5000")
                .containsEntry("te", "trailers");
        dispatcher.advance(4_999);
        assertThat(callbacks.localReply).isNull();
        dispatcher.advance(1);

        assertThat(callbacks.localReply.status()).as("the host turns it into grpc-status 14").isEqualTo(504);
        assertThat(callbacks.localReply.body()).isEqualTo("upstream request timeout");
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_response_timeout");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
        assertThat(store.counter("cluster.backend.upstream_rq_timeout")).isEqualTo(1);
        assertThat(stream.reset).isTrue();
    }

    @Test
    void grpcTimeoutBelowTheCapLosesTheOffsetAndReplacesTheRouteTimeout() {
        entry.timeoutMillis = 1_000;
        entry.maxGrpcTimeoutMillis = 0; // no cap
        entry.grpcTimeoutOffsetMillis = 500;
        filter.decodeHeaders(grpc("20S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();

        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "19500m")
                .containsEntry("x-envoy-expected-rq-timeout-ms", "19500");
        dispatcher.advance(19_499);
        assertThat(callbacks.localReply).as("the route's 1 s timeout does not apply").isNull();
        dispatcher.advance(1);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
    }

    @Test
    void offsetNotSmallerThanTheHeaderIsNotApplied() {
        entry.maxGrpcTimeoutMillis = 0;
        entry.grpcTimeoutOffsetMillis = 500;
        filter.decodeHeaders(grpc("500m"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "500m");
        stream.handler.onHeaders(trailersOnly("0"), true);
    }

    @Test
    void noGrpcTimeoutAndNoCapIsInfinite() {
        entry.maxGrpcTimeoutMillis = 0;
        filter.decodeHeaders(grpc(null), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();

        assertThat(stream.headersAtEncode).doesNotContainKeys("grpc-timeout", "x-envoy-expected-rq-timeout-ms");
        assertThat(dispatcher.pendingTasks()).as("no global timer").isZero();
        stream.handler.onHeaders(trailersOnly("0"), true);
        assertThat(callbacks.encodedHeaders.get("grpc-status")).isEqualTo("0");
    }

    @Test
    void invalidGrpcTimeoutIsIgnoredSoTheCapApplies() {
        entry.maxGrpcTimeoutMillis = 3_000;
        TestHeaderMap request = grpc("123456789S"); // 9 digits: not a valid grpc-timeout
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "3000m")
                .containsEntry("x-envoy-expected-rq-timeout-ms", "3000");
        stream.handler.onHeaders(trailersOnly("0"), true);
    }

    @Test
    void nonGrpcRequestOnAMaxGrpcTimeoutRouteKeepsTheRouteTimeoutAndItsGrpcTimeoutHeader() {
        entry.maxGrpcTimeoutMillis = 100;
        entry.timeoutMillis = 2_000;
        TestHeaderMap request = grpc("1S");
        request.set("content-type", "application/grpc-web");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "1S")
                .containsEntry("x-envoy-expected-rq-timeout-ms", "2000");
        stream.respond(200, null, null);
    }

    @Test
    void upstreamRqTimeoutHeaderOverridesTheGrpcTimeout() {
        entry.maxGrpcTimeoutMillis = 0;
        TestHeaderMap request = grpc("10S");
        request.add("x-envoy-upstream-rq-timeout-ms", "300");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "300m");
        dispatcher.advance(300);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
    }

    @Test
    void perTryTimeoutGoesIntoGrpcTimeoutAndARetryGetsWhatIsLeft() {
        entry.maxGrpcTimeoutMillis = 0;
        entry.retryPolicy = new RetryPolicy(Set.of("5xx"), 1, 1_000, Set.of(), 25, 250);
        filter.decodeHeaders(grpc("1500m"), true);
        FakeUpstreamStream first = backend.nextRequest().ready();
        assertThat(first.headersAtEncode).containsEntry("grpc-timeout", "1000m")
                .containsEntry("x-envoy-expected-rq-timeout-ms", "1000");

        dispatcher.advance(1_000); // per-try timeout, then a back-off of less than 250 ms
        assertThat(store.counter("cluster.backend.upstream_rq_per_try_timeout")).isEqualTo(1);
        dispatcher.advance(250);
        FakeUpstreamStream second = backend.nextRequest().ready();
        long left = Long.parseLong(second.headersAtEncode.get("x-envoy-expected-rq-timeout-ms"));
        assertThat(left).isBetween(250L, 500L);
        assertThat(second.headersAtEncode).containsEntry("grpc-timeout", left + "m");
        second.handler.onHeaders(trailersOnly("0"), true);
        assertThat(callbacks.encodedHeaders.get("grpc-status")).isEqualTo("0");
    }

    // max_stream_duration (Envoy's ActiveStream::refreshDurationTimeout)

    @Test
    void grpcTimeoutHeaderMaxLimitsTheStreamAndAnswersDeadlineExceeded() {
        entry.timeoutMillis = 100; // not applied under max_stream_duration
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(-1, 0, -1);
        filter.decodeHeaders(grpc("2S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "2000m")
                .doesNotContainKey("x-envoy-expected-rq-timeout-ms");

        dispatcher.advance(1_999);
        assertThat(callbacks.localReply).isNull();
        dispatcher.advance(1);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(callbacks.localReply.body()).isEqualTo("downstream duration timeout");
        assertThat(callbacks.localReply.details()).isEqualTo("max_duration_timeout");
        assertThat(callbacks.localReply.headers().get("grpc-status")).as("DEADLINE_EXCEEDED").isEqualTo("4");
        assertThat(store.counter("http.ingress.downstream_rq_max_duration_reached")).isEqualTo(1);
        assertThat(stream.reset).isTrue();
    }

    @Test
    void grpcTimeoutHeaderIsCappedThenLosesTheOffset() {
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(-1, 1_000, 200);
        filter.decodeHeaders(grpc("1M"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "800m");
        dispatcher.advance(800);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
    }

    @Test
    void offsetNotSmallerThanTheGrpcTimeoutTimesOutAtOnce() {
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(-1, 0, 1_000);
        filter.decodeHeaders(grpc("1S"), false);
        dispatcher.advance(0);
        assertThat(callbacks.localReply.status()).as("the request is not complete: 408").isEqualTo(408);
        assertThat(callbacks.localReply.headers().get("grpc-status")).isEqualTo("4");
    }

    @Test
    void maxStreamDurationWithoutAGrpcTimeoutLimitsAPlainRequest() {
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(1_000, 0, -1);
        TestHeaderMap request = TestHeaderMap.of(HeaderMap.METHOD, "POST", HeaderMap.PATH, "/upload",
                HeaderMap.AUTHORITY, "example.com", HeaderMap.SCHEME, "http");
        filter.decodeHeaders(request, false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        decodeData("still sending", false);
        dispatcher.advance(1_000);

        assertThat(callbacks.localReply.status()).isEqualTo(408);
        assertThat(callbacks.localReply.headers().contains("grpc-status")).as("not a gRPC request").isFalse();
        assertThat(stream.headersAtEncode).doesNotContainKey("grpc-timeout");
    }

    @Test
    void maxStreamDurationZeroDisablesTheLimit() {
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(0, -1, -1);
        filter.decodeHeaders(grpc("1S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("grpc-timeout", "1S");
        assertThat(dispatcher.pendingTasks()).as("neither a duration nor a global timer").isZero();
        stream.handler.onHeaders(trailersOnly("0"), true);
    }

    @Test
    void streamDurationAfterTheResponseStartedResetsTheStream() {
        entry.maxStreamDuration = new RouteEntry.MaxStreamDuration(-1, 0, -1);
        filter.decodeHeaders(grpc("1S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc"), false);
        dispatcher.advance(1_000);
        // the host's sendLocalReply resets a stream whose headers went downstream
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(stream.reset).isTrue();
    }

    // Retries on grpc-status (Envoy's RetryStateImpl::wouldRetryFromHeaders)

    @Test
    void retryOnUnavailableRetriesATrailersOnlyResponse() {
        entry.retryPolicy = retryOn("unavailable", 1);
        filter.decodeHeaders(grpc(null), false);
        decodeData("\0\0\0\0\5hello", false);
        TestHeaderMap requestTrailers = TestHeaderMap.of("x-checksum", "abc");
        filter.decodeTrailers(requestTrailers);
        FakeUpstreamStream first = backend.nextRequest().ready();
        first.handler.onHeaders(trailersOnly("14"), true);
        assertThat(callbacks.encodedHeaders).as("a retried response is not sent downstream").isNull();
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);

        dispatcher.advance(250);
        FakeUpstreamStream second = backend.nextRequest().ready();
        assertThat(second.body.toString()).isEqualTo("\0\0\0\0\5hello");
        assertThat(second.trailers).as("request trailers replayed").isSameAs(requestTrailers);
        second.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc"), false);
        second.handler.onData(buf("\0\0\0\0\2ok"), false);
        TestHeaderMap responseTrailers = TestHeaderMap.of("grpc-status", "0");
        second.handler.onTrailers(responseTrailers);

        assertThat(callbacks.encodedHeaders.status()).isEqualTo(200);
        assertThat(callbacks.encodedBody.toString()).isEqualTo("\0\0\0\0\2ok");
        assertThat(callbacks.encodedTrailers).isSameAs(responseTrailers);
        assertThat(store.counter("cluster.backend.upstream_rq_retry_success")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.retry.upstream_rq_200")).isEqualTo(1);
    }

    @Test
    void grpcStatusInTrailersIsNotRetried() {
        entry.retryPolicy = retryOn("unavailable", 1);
        filter.decodeHeaders(grpc(null), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc"), false);
        TestHeaderMap trailers = TestHeaderMap.of("grpc-status", "14");
        stream.handler.onTrailers(trailers);
        assertThat(callbacks.encodedTrailers).isSameAs(trailers);
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isZero();
    }

    @Test
    void retryGrpcOnHeaderEnablesRetriesAndIsRemoved() {
        TestHeaderMap request = grpc(null);
        request.add("x-envoy-retry-grpc-on", "cancelled,deadline-exceeded");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream first = backend.nextRequest().ready();
        assertThat(first.headersAtEncode).doesNotContainKey("x-envoy-retry-grpc-on");
        first.handler.onHeaders(trailersOnly("4"), true);
        dispatcher.advance(250);
        FakeUpstreamStream second = backend.nextRequest().ready();
        second.handler.onHeaders(trailersOnly("1"), true);

        assertThat(callbacks.encodedHeaders.get("grpc-status")).as("one retry by default").isEqualTo("1");
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.upstream_rq_retry_limit_exceeded")).isEqualTo(1);
    }

    @Test
    void grpcConditionsInRetryOnHeaderAreIgnored() {
        TestHeaderMap request = grpc(null);
        request.add("x-envoy-retry-on", "unavailable");
        filter.decodeHeaders(request, true);
        backend.nextRequest().ready().handler.onHeaders(trailersOnly("14"), true);
        assertThat(callbacks.encodedHeaders.get("grpc-status")).isEqualTo("14");
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isZero();
    }

    @Test
    void otherGrpcStatusesAreNotRetried() {
        entry.retryPolicy = retryOn("internal", 1);
        filter.decodeHeaders(grpc(null), true);
        backend.nextRequest().ready().handler.onHeaders(trailersOnly("12"), true);
        assertThat(callbacks.encodedHeaders.get("grpc-status")).isEqualTo("12");
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isZero();
    }

    @Test
    void strictCheckRejectsAGrpcConditionInRetryOnAndAnUnknownOneInRetryGrpcOn() {
        filter = newFilter(Router.newBuilder().addStrictCheckHeaders("x-envoy-retry-on")
                .addStrictCheckHeaders("x-envoy-retry-grpc-on").build());
        TestHeaderMap request = grpc(null);
        request.add("x-envoy-retry-grpc-on", "unavailable,5xx");
        filter.decodeHeaders(request, true);
        assertThat(callbacks.localReply.status()).isEqualTo(400);
        assertThat(callbacks.localReply.details())
                .isEqualTo("request_headers_failed_strict_check{x-envoy-retry-grpc-on}");
    }

    // Stats

    @Test
    void suppressGrpcRequestFailureCodeStatsSkipsCodeStatsOfGrpcRequestsOnly() {
        filter = newFilter(Router.newBuilder().setSuppressGrpcRequestFailureCodeStats(true).build());
        filter.decodeHeaders(grpc(null), true);
        backend.nextRequest().ready().respond(503, null, null);
        assertThat(store.counter("cluster.backend.upstream_rq_503")).isZero();
        assertThat(store.counter("cluster.backend.upstream_rq_5xx")).isZero();
        assertThat(store.counter("cluster.backend.upstream_rq_completed")).isEqualTo(1);
        filter.onDestroy();

        filter = newFilter(Router.newBuilder().setSuppressGrpcRequestFailureCodeStats(true).build());
        TestHeaderMap plain = grpc(null);
        plain.remove("content-type");
        filter.decodeHeaders(plain, true);
        backend.nextRequest().ready().respond(503, null, null);
        assertThat(store.counter("cluster.backend.upstream_rq_503")).isEqualTo(1);
    }

    @Test
    void globalTimeoutDuringAStreamingResponseCountsAndResets() {
        entry.maxGrpcTimeoutMillis = 0;
        filter.decodeHeaders(grpc("1S"), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc"), false);
        dispatcher.advance(1_000);
        assertThat(callbacks.resets).isEqualTo(1);
        assertThat(callbacks.localReply).isNull();
        assertThat(store.counter("cluster.backend.upstream_rq_timeout")).isEqualTo(1);
        assertThat(stream.reset).isTrue();
    }

    // Trailers and streaming

    @Test
    void bidiStreamingForwardsRequestDataAfterTheResponseStartedAndTrailersBothWays() {
        filter.decodeHeaders(grpc(null), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        decodeData("ping1", false);
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200", "content-type", "application/grpc"), false);
        stream.handler.onData(buf("pong1"), false);
        decodeData("ping2", false);
        TestHeaderMap requestTrailers = TestHeaderMap.of("x-end", "1");
        filter.decodeTrailers(requestTrailers);
        TestHeaderMap responseTrailers = TestHeaderMap.of("grpc-status", "0", "grpc-message", "");
        stream.handler.onTrailers(responseTrailers);

        assertThat(stream.body.toString()).isEqualTo("ping1ping2");
        assertThat(stream.trailers).isSameAs(requestTrailers);
        assertThat(stream.reset).isFalse();
        assertThat(callbacks.encodedBody.toString()).isEqualTo("pong1");
        assertThat(callbacks.encodedTrailers).isSameAs(responseTrailers);
        assertThat(store.counter("cluster.backend.upstream_rq_200")).isEqualTo(1);
    }
}
