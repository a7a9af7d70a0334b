package dev.legate.filters.http.router;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.upstream.ResetReason;
import dev.legate.filters.http.router.RouterFakes.FakeCallbacks;
import dev.legate.filters.http.router.RouterFakes.FakeCluster;
import dev.legate.filters.http.router.RouterFakes.FakeClusterManager;
import dev.legate.filters.http.router.RouterFakes.FakeDirectResponse;
import dev.legate.filters.http.router.RouterFakes.FakeHost;
import dev.legate.filters.http.router.RouterFakes.FakeRoute;
import dev.legate.filters.http.router.RouterFakes.FakeRouteEntry;
import dev.legate.filters.http.router.RouterFakes.FakeUpstreamStream;
import dev.legate.filters.http.router.RouterFakes.PendingStream;
import dev.legate.filters.http.router.RouterFakes.RecordingLogger;
import dev.legate.host.stats.StatsStore;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
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
 * Filter-tier tests: the router driven through its SPI callbacks with fakes of the host's side, a manual clock,
 * and pooled buffers checked for release.
 */
class RouterFilterTest {

    private static final String RESET_PREFIX = "upstream connect error or disconnect/reset before headers. ";

    private final ManualDispatcher dispatcher = new ManualDispatcher(1_000_000);
    private final StatsStore store = new StatsStore();
    private final FakeClusterManager clusterManager = new FakeClusterManager();
    private final FakeCluster backend = new FakeCluster("backend", store.root());
    private final FakeCallbacks callbacks = new FakeCallbacks(dispatcher, clusterManager);
    private final FakeRouteEntry entry = new FakeRouteEntry();
    private final RecordingLogger upstreamLog = new RecordingLogger();
    private final TestFactoryContext context = new TestFactoryContext(store).accessLogger(upstreamLog);
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
        filter.onDestroy(); // idempotent
        for (ByteBuf b : buffers) {
            assertThat(b.refCnt()).as("request body buffer released").isZero();
        }
        assertThat(backend.resources.requests).as("max_requests slots held").isZero();
        assertThat(backend.resources.retries).as("max_retries slots held").isZero();
        assertThat(store.gauge("cluster.backend.upstream_rq_active")).isZero();
        assertThat(dispatcher.pendingTasks()).as("timers left armed").isZero();
        assertThat(callbacks.downstreamWatermarks).isEmpty();
        for (PendingStream p : backend.allRequests) {
            assertThat(p.answered || p.cancelled).as("pool request answered or cancelled").isTrue();
        }
    }

    private RouterFilter newFilter(Router config) {
        return (RouterFilter) new RouterFilterFactory().create(config, RouterFakes.hcmContext(context)).newFilter(callbacks);
    }

    private static TestHeaderMap get() {
        return TestHeaderMap.of(HeaderMap.METHOD, "GET", HeaderMap.PATH, "/", HeaderMap.AUTHORITY, "example.com",
                HeaderMap.SCHEME, "http");
    }

    private static TestHeaderMap post() {
        return TestHeaderMap.of(HeaderMap.METHOD, "POST", HeaderMap.PATH, "/upload", HeaderMap.AUTHORITY, "example.com",
                HeaderMap.SCHEME, "http");
    }

    private ByteBuf buf(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer();
        b.writeCharSequence(s, UTF_8);
        buffers.add(b);
        return b;
    }

    /** Feeds a body chunk the way the host does: borrowed for the call, released by the host after it. */
    private FilterDataStatus decodeData(String s, boolean endStream) {
        ByteBuf b = buf(s);
        FilterDataStatus status = filter.decodeData(b, endStream);
        b.release();
        return status;
    }

    private static RetryPolicy retryOn(String retryOn, int numRetries, long perTryMillis) {
        return new RetryPolicy(Set.of(retryOn), numRetries, perTryMillis, Set.of(), 25, 250);
    }

    // Local replies before any upstream

    @Test
    void noRouteAnswers404WithEmptyBody() {
        callbacks.route = null;
        assertThat(filter.decodeHeaders(get(), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);

        assertThat(callbacks.localReply.status()).isEqualTo(404);
        assertThat(callbacks.localReply.body()).isEmpty();
        assertThat(callbacks.localReply.details()).isEqualTo("route_not_found");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.NO_ROUTE_FOUND);
        assertThat(store.counter("http.ingress.no_route")).isEqualTo(1);
        assertThat(store.counter("http.ingress.rq_total")).isEqualTo(1);
        assertThat(backend.allRequests).isEmpty();
    }

    @Test
    void directResponseSendsConfiguredStatusAndBody() {
        callbacks.route = new FakeRoute(null, new FakeDirectResponse(200, "welcome to legate", null));
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(200);
        assertThat(callbacks.localReply.body()).isEqualTo("welcome to legate");
        assertThat(callbacks.localReply.details()).isEqualTo("direct_response");
        assertThat(callbacks.localReply.headers().get("content-type")).isEqualTo("text/plain");
        assertThat(callbacks.localReply.headers().get("x-route-response")).isEqualTo("added");
        assertThat(callbacks.localReply.headers().get("location")).isNull();
        assertThat(store.counter("http.ingress.rq_direct_response")).isEqualTo(1);
    }

    @Test
    void redirectSendsLocationAndEmptyBody() {
        callbacks.route = FakeRoute.redirect(new FakeDirectResponse(301, "", "https://example.com/"));
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(301);
        assertThat(callbacks.localReply.body()).isEmpty();
        assertThat(callbacks.localReply.headers().get("location")).isEqualTo("https://example.com/");
        assertThat(callbacks.localReply.headers().get("x-route-response")).isEqualTo("added");
        assertThat(callbacks.localReply.details()).isEqualTo("direct_response");
        assertThat(store.counter("http.ingress.rq_redirect")).isEqualTo(1);
    }

    @Test
    void directResponseWithA3xxStatusCarriesALocationButCountsAsADirectResponse() {
        callbacks.route = new FakeRoute(null, new FakeDirectResponse(302, "moved", "http://x/here"));
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(302);
        assertThat(callbacks.localReply.headers().get("location")).isEqualTo("http://x/here");
        assertThat(store.counter("http.ingress.rq_direct_response")).isEqualTo(1);
        assertThat(store.counter("http.ingress.rq_redirect")).isZero();
    }

    @Test
    void unknownClusterAnswersClusterNotFoundCode() {
        entry.clusterName = "nope";
        entry.clusterNotFoundResponseCode = 404;
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(404);
        assertThat(callbacks.localReply.body()).isEmpty();
        assertThat(callbacks.localReply.details()).isEqualTo("cluster_not_found");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.NO_CLUSTER_FOUND);
        assertThat(store.counter("http.ingress.no_cluster")).isEqualTo(1);
    }

    @Test
    void missingClusterHeaderIsNoCluster() {
        entry.clusterName = null;
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.NO_CLUSTER_FOUND);
    }

    @Test
    void noHostAnswers503NoHealthyUpstream() {
        backend.hosts.clear();
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body()).isEqualTo("no healthy upstream");
        assertThat(callbacks.localReply.details()).isEqualTo("no_healthy_upstream");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.NO_HEALTHY_UPSTREAM);
        assertThat(store.counter("cluster.backend.upstream_cx_none_healthy")).isEqualTo(1);
        assertThat(callbacks.streamInfo.upstreamCluster()).isEqualTo("backend");
    }

    @Test
    void circuitBreakerOverflowAnswers503Overloaded() {
        backend.resources.maxRequests = 0;
        filter.decodeHeaders(get(), true);

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body()).isEqualTo(RESET_PREFIX + "reset reason: overflow");
        assertThat(callbacks.localReply.headers().get("x-envoy-overloaded")).isEqualTo("true");
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_reset_before_response_started{overflow}");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_OVERFLOW);
        assertThat(store.counter("cluster.backend.upstream_rq_pending_overflow")).isEqualTo(1);
        assertThat(backend.allRequests).isEmpty();
    }

    // Forwarding

    @Test
    void forwardsRequestAndRelaysResponse() {
        TestHeaderMap request = post();
        request.add("x-envoy-upstream-rq-timeout-ms", "2000");
        request.add("x-envoy-retry-on", "5xx");
        request.add("x-envoy-max-retries", "0");
        assertThat(filter.decodeHeaders(request, false)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        // body arrives before the pool has a stream: kept, then sent in one go
        assertThat(decodeData("hello ", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
        PendingStream pending = backend.nextRequest();
        FakeUpstreamStream stream = pending.ready();
        assertThat(stream.body.toString()).isEqualTo("hello ");
        assertThat(stream.ended).isFalse();
        decodeData("world", true);
        assertThat(stream.body.toString()).isEqualTo("hello world");
        assertThat(stream.ended).isTrue();

        assertThat(stream.headersAtEncode).containsEntry("x-envoy-expected-rq-timeout-ms", "2000")
                .containsEntry("x-route-request", "added")
                .doesNotContainKeys("x-envoy-upstream-rq-timeout-ms", "x-envoy-retry-on", "x-envoy-max-retries");
        assertThat(callbacks.streamInfo.upstreamHost()).isEqualTo("10.0.0.1:8080");
        assertThat(store.counter("cluster.backend.upstream_rq_total")).isEqualTo(1);
        assertThat(store.gauge("cluster.backend.upstream_rq_active")).isEqualTo(1);

        dispatcher.advance(7);
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200"), false);
        assertThat(callbacks.encodedHeaders.status()).isEqualTo(200);
        assertThat(callbacks.encodedHeaders.get("x-envoy-upstream-service-time")).isEqualTo("7");
        assertThat(callbacks.encodedHeaders.get("x-route-response")).isEqualTo("added");
        assertThat(callbacks.streamInfo.responseCodeDetails()).isEqualTo("via_upstream");
        stream.handler.onData(responseBuf("response body"), true);

        assertThat(callbacks.encodedBody.toString()).isEqualTo("response body");
        assertThat(callbacks.encodedEnd).isTrue();
        assertThat(callbacks.localReply).isNull();
        assertThat(stream.reset).isFalse();
        assertThat(store.counter("cluster.backend.upstream_rq_200")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.upstream_rq_2xx")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.upstream_rq_completed")).isEqualTo(1);
        assertThat(store.gauge("cluster.backend.upstream_rq_active")).isZero();
        assertThat(backend.resources.requests).as("request slot released at completion").isZero();
        // a late upstream 2s global timeout does not fire after completion
        dispatcher.advance(5000);
        assertThat(callbacks.localReply).isNull();
    }

    @Test
    void suppressEnvoyHeadersOmitsServiceTimeAndExpectedTimeout() {
        filter = newFilter(Router.newBuilder().setSuppressEnvoyHeaders(true).build());
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).doesNotContainKey("x-envoy-expected-rq-timeout-ms");
        stream.respond(204, null, null);

        assertThat(callbacks.encodedHeaders.status()).isEqualTo(204);
        assertThat(callbacks.encodedHeaders.contains("x-envoy-upstream-service-time")).isFalse();
        assertThat(callbacks.encodedEnd).isTrue();
    }

    @Test
    void autoHostRewriteUsesHostname() {
        backend.hosts.clear();
        backend.hosts.add(new FakeHost("10.0.0.9", 80, "api.internal"));
        entry.autoHostRewrite = true;
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry(":authority", "api.internal");
        stream.respond(200, null, null);
    }

    @Test
    void dynamicStatsFalseChargesNoCodeStats() {
        filter = newFilter(Router.newBuilder().setDynamicStats(BoolValue.of(false)).build());
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().respond(200, null, null);
        assertThat(store.counter("cluster.backend.upstream_rq_200")).isZero();
        assertThat(store.counter("cluster.backend.upstream_rq_total")).isEqualTo(1);
    }

    @Test
    void upstreamLogIsWrittenPerAttempt() {
        filter = newFilter(Router.newBuilder().addUpstreamLog(AccessLog.newBuilder().setName("x")).build());
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().respond(200, null, null);
        assertThat(upstreamLog.responses).hasSize(1);
        assertThat(upstreamLog.responses.get(0).status()).isEqualTo(200);
    }

    // Retries

    @Test
    void retries503ThenSendsOnlyTheSecondResponse() {
        entry.retryPolicy = retryOn("5xx", 1, 0);
        filter.decodeHeaders(post(), false);
        decodeData("payload", true);
        FakeUpstreamStream first = backend.nextRequest().ready();
        assertThat(first.body.toString()).isEqualTo("payload");
        first.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "503"), false);
        first.handler.onData(responseBuf("first body"), true); // after the reset: must be released, not sent

        assertThat(first.reset).as("the retried response's stream is reset").isTrue();
        assertThat(callbacks.encodedHeadersCount).isZero();
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);
        assertThat(backend.requests).as("no new attempt before the back-off").isEmpty();

        dispatcher.advance(250);
        PendingStream retry = backend.nextRequest();
        assertThat(retry.host.addressString()).as("the retry prefers another host").isEqualTo("10.0.0.2:8080");
        FakeUpstreamStream second = retry.ready();
        assertThat(second.body.toString()).as("the body is replayed").isEqualTo("payload");
        assertThat(second.ended).isTrue();
        second.respond(200, null, responseBuf("second body"));

        assertThat(callbacks.encodedHeadersCount).isEqualTo(1);
        assertThat(callbacks.encodedHeaders.status()).isEqualTo(200);
        assertThat(callbacks.encodedBody.toString()).isEqualTo("second body");
        assertThat(store.counter("cluster.backend.upstream_rq_retry_success")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.retry.upstream_rq_503")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.upstream_rq_503")).isZero();
        assertThat(store.counter("cluster.backend.upstream_rq_200")).isEqualTo(1);
        assertThat(store.counter("cluster.backend.upstream_rq_total")).isEqualTo(2);
        assertThat(callbacks.streamInfo.upstreamHost()).isEqualTo("10.0.0.2:8080");
    }

    @Test
    void maxRetriesHeaderOverridesNumRetries() {
        entry.retryPolicy = retryOn("5xx", 1, 0);
        TestHeaderMap request = get();
        request.add("x-envoy-max-retries", "2");
        filter.decodeHeaders(request, true);

        for (int attempt = 0; attempt < 3; attempt++) {
            FakeUpstreamStream stream = backend.nextRequest().ready();
            assertThat(stream.headersAtEncode).doesNotContainKey("x-envoy-max-retries");
            stream.respond(503, null, attempt < 2 ? null : responseBuf("still down"));
            dispatcher.advance(250);
        }
        assertThat(backend.requests).isEmpty();
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(2);
        assertThat(store.counter("cluster.backend.upstream_rq_retry_limit_exceeded")).isEqualTo(1);
        assertThat(callbacks.encodedHeaders.status()).isEqualTo(503);
        assertThat(callbacks.encodedBody.toString()).isEqualTo("still down");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
    }

    @Test
    void retryOnHeaderAloneAllowsOneRetry() {
        TestHeaderMap request = get();
        request.add("x-envoy-retry-on", "connect-failure");
        filter.decodeHeaders(request, true);
        backend.nextRequest().fail(ResetReason.REMOTE_CONNECTION_FAILURE, "");
        dispatcher.advance(250);
        backend.nextRequest().fail(ResetReason.REMOTE_CONNECTION_FAILURE, "");

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body())
                .isEqualTo(RESET_PREFIX + "retried and the latest reset reason: remote connection failure");
        assertThat(callbacks.streamInfo.responseFlags())
                .contains(ResponseFlag.UPSTREAM_CONNECTION_FAILURE, ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);
    }

    @Test
    void retryCircuitBreakerOverflowStopsRetrying() {
        entry.retryPolicy = retryOn("5xx", 3, 0);
        backend.resources.maxRetries = 0;
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().respond(500, null, responseBuf("boom"));

        assertThat(store.counter("cluster.backend.upstream_rq_retry_overflow")).isEqualTo(1);
        assertThat(callbacks.encodedHeaders.status()).isEqualTo(500);
        assertThat(callbacks.encodedBody.toString()).isEqualTo("boom");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_OVERFLOW);
    }

    @Test
    void retriableStatusCodesRetryOnlyListedCodes() {
        entry.retryPolicy = new RetryPolicy(Set.of("retriable-status-codes"), 1, 0, Set.of(418), 25, 250);
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().respond(418, null, null);
        dispatcher.advance(250);
        backend.nextRequest().ready().respond(500, null, null);

        assertThat(callbacks.encodedHeaders.status()).isEqualTo(500);
        assertThat(store.counter("cluster.backend.retry.upstream_rq_418")).isEqualTo(1);
    }

    @Test
    void retriableStatusCodesHeaderAndRetriable4xx() {
        TestHeaderMap request = get();
        request.add("x-envoy-retry-on", "retriable-4xx,retriable-status-codes");
        request.add("x-envoy-retriable-status-codes", "429");
        request.add("x-envoy-max-retries", "3");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream first = backend.nextRequest().ready();
        assertThat(first.headersAtEncode).doesNotContainKeys("x-envoy-retry-on", "x-envoy-retriable-status-codes");
        first.respond(409, null, null);
        dispatcher.advance(250);
        backend.nextRequest().ready().respond(429, null, null);
        dispatcher.advance(250);
        backend.nextRequest().ready().respond(404, null, null);

        assertThat(callbacks.encodedHeaders.status()).isEqualTo(404);
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(2);
        assertThat(store.counter("cluster.backend.retry.upstream_rq_4xx")).isEqualTo(2);
    }

    // Timeouts

    @Test
    void respectExpectedRqTimeoutTakesTheDownstreamBudget() {
        filter = newFilter(Router.newBuilder().setRespectExpectedRqTimeout(true).build());
        TestHeaderMap request = get();
        request.add("x-envoy-expected-rq-timeout-ms", "300");
        request.add("x-envoy-upstream-rq-timeout-ms", "5000");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("x-envoy-expected-rq-timeout-ms", "300");
        dispatcher.advance(300);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_response_timeout");
    }

    @Test
    void perTryTimeoutRetriesThen504() {
        entry.retryPolicy = retryOn("5xx", 1, 100);
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream first = backend.nextRequest().ready();
        assertThat(first.headersAtEncode).containsEntry("x-envoy-expected-rq-timeout-ms", "100");

        dispatcher.advance(100);
        assertThat(first.reset).isTrue();
        assertThat(store.counter("cluster.backend.upstream_rq_per_try_timeout")).isEqualTo(1);
        assertThat(callbacks.localReply).isNull();

        dispatcher.advance(250);
        FakeUpstreamStream second = backend.nextRequest().ready();
        dispatcher.advance(100);

        assertThat(second.reset).isTrue();
        assertThat(store.counter("cluster.backend.upstream_rq_per_try_timeout")).isEqualTo(2);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(callbacks.localReply.body()).isEqualTo("upstream request timeout");
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_per_try_timeout");
        assertThat(callbacks.streamInfo.responseFlags()).contains(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
    }

    @Test
    void perTryTimeoutHeaderOverridesPolicy() {
        TestHeaderMap request = get();
        request.add("x-envoy-upstream-rq-per-try-timeout-ms", "40");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).containsEntry("x-envoy-expected-rq-timeout-ms", "40")
                .doesNotContainKey("x-envoy-upstream-rq-per-try-timeout-ms");
        dispatcher.advance(40);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_per_try_timeout");
    }

    @Test
    void globalTimeoutAnswers504AndResetsUpstream() {
        entry.timeoutMillis = 1000;
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        dispatcher.advance(999);
        assertThat(callbacks.localReply).isNull();
        dispatcher.advance(1);

        assertThat(stream.reset).isTrue();
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(callbacks.localReply.body()).isEqualTo("upstream request timeout");
        assertThat(callbacks.localReply.details()).isEqualTo("upstream_response_timeout");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
        assertThat(store.counter("cluster.backend.upstream_rq_timeout")).isEqualTo(1);
        // the stream was abandoned: a late response is ignored
        stream.handler.onData(responseBuf("late"), true);
        assertThat(callbacks.encodedHeadersCount).isZero();
    }

    @Test
    void globalTimeoutStartsWhenTheRequestIsComplete() {
        entry.timeoutMillis = 1000;
        filter.decodeHeaders(post(), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        dispatcher.advance(5000);
        assertThat(callbacks.localReply).as("no timeout while the request streams").isNull();
        decodeData("x", true);
        dispatcher.advance(1000);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(stream.reset).isTrue();
    }

    @Test
    void timeoutHeaderZeroDisablesTheGlobalTimeout() {
        entry.timeoutMillis = 1000;
        TestHeaderMap request = get();
        request.add("x-envoy-upstream-rq-timeout-ms", "0");
        filter.decodeHeaders(request, true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.headersAtEncode).doesNotContainKey("x-envoy-expected-rq-timeout-ms");
        dispatcher.advance(60_000);
        assertThat(callbacks.localReply).isNull();
        stream.respond(200, null, null);
    }

    @Test
    void globalTimeoutAfterResponseHeadersResetsDownstream() {
        entry.timeoutMillis = 1000;
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200"), false);
        dispatcher.advance(1000);

        assertThat(callbacks.resets).isEqualTo(1);
        assertThat(callbacks.localReply).isNull();
        assertThat(stream.reset).isTrue();
    }

    // Upgrades (WebSocket): the route timeout covers the handshake only (envoyproxy/envoy#41075)

    private static TestHeaderMap upgrade() {
        TestHeaderMap h = get();
        h.add("connection", "keep-alive, Upgrade");
        h.add("upgrade", "websocket");
        return h;
    }

    @Test
    void upgradeHandshakeIsTimedByTheRouteTimeout() {
        entry.timeoutMillis = 1000;
        filter.decodeHeaders(upgrade(), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        dispatcher.advance(1000);
        assertThat(callbacks.localReply.status()).isEqualTo(504);
        assertThat(stream.reset).isTrue();
    }

    @Test
    void upgradedTunnelOutlivesTheRouteTimeout() {
        entry.timeoutMillis = 1000;
        filter.decodeHeaders(upgrade(), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        dispatcher.advance(500);
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "101", "upgrade", "websocket",
                "connection", "Upgrade"), false);
        dispatcher.advance(60_000);
        decodeData("frame", false);
        decodeData("", true); // the client's end: no route timeout for the tunnel either
        dispatcher.advance(60_000);
        assertThat(callbacks.localReply).isNull();
        assertThat(callbacks.resets).isZero();
        assertThat(stream.reset).isFalse();
        stream.handler.onData(responseBuf("bye"), true);
    }

    // Resets

    @Test
    void poolFailureBeforeHeadersAnswers503WithReasonAndTransportDetail() {
        filter.decodeHeaders(get(), true);
        backend.nextRequest().fail(ResetReason.REMOTE_CONNECTION_FAILURE, "delayed connect error: 111");

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body()).isEqualTo(RESET_PREFIX
                + "reset reason: remote connection failure, transport failure reason: delayed connect error: 111");
        assertThat(callbacks.localReply.details()).isEqualTo(
                "upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_111}");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
        assertThat(store.counter("cluster.backend.upstream_rq_503")).isEqualTo(1);
    }

    @Test
    void connectionTerminationBeforeHeadersIsUC() {
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onReset(ResetReason.CONNECTION_TERMINATION, "");

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body()).isEqualTo(RESET_PREFIX + "reset reason: connection termination");
        assertThat(callbacks.localReply.details())
                .isEqualTo("upstream_reset_before_response_started{connection_termination}");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
    }

    @Test
    void refusedStreamIsRetriedUnderRefusedStreamButAPlainRemoteResetIsNot() {
        entry.retryPolicy = retryOn("refused-stream", 1, 0);
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().handler.onReset(ResetReason.REMOTE_REFUSED_STREAM_RESET, "");

        assertThat(callbacks.localReply).isNull();
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);
        dispatcher.advance(250);
        backend.nextRequest().ready().handler.onReset(ResetReason.REMOTE_RESET, "");

        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.body())
                .isEqualTo(RESET_PREFIX + "retried and the latest reset reason: remote reset");
        assertThat(store.counter("cluster.backend.upstream_rq_retry")).isEqualTo(1);
    }

    @Test
    void protocolErrorIs502UPE() {
        filter.decodeHeaders(get(), true);
        backend.nextRequest().ready().handler.onReset(ResetReason.PROTOCOL_ERROR, "");

        assertThat(callbacks.localReply.status()).isEqualTo(502);
        assertThat(callbacks.localReply.body()).isEqualTo(RESET_PREFIX + "reset reason: protocol error");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_PROTOCOL_ERROR);
    }

    @Test
    void poolOverflowIs503OverloadedAndNeverRetried() {
        entry.retryPolicy = retryOn("5xx", 3, 0);
        filter.decodeHeaders(get(), true);
        backend.nextRequest().fail(ResetReason.OVERFLOW, "");

        assertThat(backend.requests).isEmpty();
        assertThat(callbacks.localReply.status()).isEqualTo(503);
        assertThat(callbacks.localReply.headers().get("x-envoy-overloaded")).isEqualTo("true");
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_OVERFLOW);
    }

    @Test
    void resetAfterResponseHeadersResetsDownstream() {
        filter.decodeHeaders(get(), true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200"), false);
        stream.handler.onData(responseBuf("part"), false);
        stream.handler.onReset(ResetReason.REMOTE_RESET, "");

        assertThat(callbacks.resets).isEqualTo(1);
        assertThat(callbacks.localReply).isNull();
        assertThat(callbacks.encodedBody.toString()).isEqualTo("part");
        assertThat(store.counter("http.ingress.rq_reset_after_downstream_response_started")).isEqualTo(1);
        assertThat(callbacks.streamInfo.responseFlags()).containsExactly(ResponseFlag.UPSTREAM_REMOTE_RESET);
    }

    // Buffers, flow control, lifecycle

    @Test
    void destroyWhilePoolPendingCancelsAndReleasesBody() {
        filter.decodeHeaders(post(), false);
        decodeData("kept until a stream is ready", false);
        PendingStream pending = backend.nextRequest();
        filter.onDestroy();

        assertThat(pending.cancelled).isTrue();
        assertThat(buffers.get(0).refCnt()).isZero();
        assertThat(store.gauge("cluster.backend.upstream_rq_active")).isZero();
    }

    @Test
    void destroyWithStreamOpenResetsIt() {
        entry.retryPolicy = retryOn("5xx", 1, 0);
        filter.decodeHeaders(post(), false);
        decodeData("abc", false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        decodeData("def", false);
        filter.onDestroy();

        assertThat(stream.reset).isTrue();
        assertThat(stream.body.toString()).isEqualTo("abcdef");
        assertThat(callbacks.removedWatermarks).isEqualTo(1);
    }

    @Test
    void bodyPastTheBufferLimitPausesDownstreamAndAbandonsRetries() {
        callbacks.bufferLimit = 8;
        entry.retryPolicy = retryOn("5xx", 1, 0);
        filter.decodeHeaders(post(), false);
        decodeData("12345", false);
        assertThat(callbacks.aboveHighWatermark).isZero();
        decodeData("67890", false);
        assertThat(callbacks.aboveHighWatermark).isEqualTo(1);
        assertThat(store.counter("cluster.backend.retry_or_shadow_abandoned")).isEqualTo(1);

        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.body.toString()).isEqualTo("1234567890");
        assertThat(callbacks.belowLowWatermark).isEqualTo(1);
        decodeData("!", true);
        assertThat(stream.body.toString()).isEqualTo("1234567890!");
        assertThat(buffers.get(0).refCnt()).as("nothing kept once sent without retries").isZero();

        stream.respond(503, null, null);
        assertThat(callbacks.encodedHeaders.status()).as("no retry once abandoned").isEqualTo(503);
    }

    @Test
    void upstreamWatermarksPauseTheDownstreamAndDownstreamWatermarksPauseTheUpstream() {
        filter.decodeHeaders(post(), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.handler.onAboveWriteBufferHighWatermark();
        assertThat(callbacks.aboveHighWatermark).isEqualTo(1);
        stream.handler.onBelowWriteBufferLowWatermark();
        assertThat(callbacks.belowLowWatermark).isEqualTo(1);

        assertThat(callbacks.downstreamWatermarks).hasSize(1);
        callbacks.downstreamWatermarks.get(0).onAboveWriteBufferHighWatermark();
        assertThat(stream.readDisabled).isEqualTo(1);
        callbacks.downstreamWatermarks.get(0).onBelowWriteBufferLowWatermark();
        assertThat(stream.readDisabled).isZero();

        // still above when the attempt ends: the downstream is resumed
        stream.handler.onAboveWriteBufferHighWatermark();
        decodeData("x", true);
        stream.respond(200, null, null);
        assertThat(callbacks.belowLowWatermark).isEqualTo(2);
    }

    @Test
    void requestTrailersAreForwardedAfterTheBody() {
        filter.decodeHeaders(post(), false);
        decodeData("body", false);
        TestHeaderMap trailers = TestHeaderMap.of("x-checksum", "abc");
        filter.decodeTrailers(trailers);
        FakeUpstreamStream stream = backend.nextRequest().ready();

        assertThat(stream.body.toString()).isEqualTo("body");
        assertThat(stream.trailers).isSameAs(trailers);
        stream.handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, "200"), false);
        TestHeaderMap responseTrailers = TestHeaderMap.of("grpc-status", "0");
        stream.handler.onTrailers(responseTrailers);
        assertThat(callbacks.encodedTrailers).isSameAs(responseTrailers);
    }

    @Test
    void emptyLastChunkBeforeTheStreamIsReadyEndsTheRequestWithTheHeaders() {
        entry.retryPolicy = retryOn("5xx", 1, 0);
        filter.decodeHeaders(post(), false);
        decodeData("", true);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        assertThat(stream.ended).isTrue();
        assertThat(stream.body.toString()).isEmpty();
        stream.respond(200, null, null);
        assertThat(callbacks.encodedHeaders.status()).isEqualTo(200);
    }

    @Test
    void responseBeforeTheRequestEndsResetsTheUpstreamAndDropsTheRest() {
        filter.decodeHeaders(post(), false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        decodeData("partial", false);
        stream.respond(413, null, responseBuf("too big"));

        assertThat(callbacks.encodedHeaders.status()).isEqualTo(413);
        assertThat(callbacks.encodedBody.toString()).isEqualTo("too big");
        assertThat(stream.reset).as("a half-sent HTTP/1.1 request cannot leave its connection reusable").isTrue();
        assertThat(decodeData("more", true)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
        assertThat(stream.body.toString()).isEqualTo("partial");
    }

    @Test
    void backOffBufferOverflowAnswers507() {
        callbacks.bufferLimit = 8;
        entry.retryPolicy = retryOn("5xx", 1, 0);
        filter.decodeHeaders(post(), false);
        decodeData("1234", false);
        FakeUpstreamStream stream = backend.nextRequest().ready();
        stream.respond(503, null, null);
        decodeData("56789", false); // during the back-off: 9 bytes cannot be replayed within 8

        assertThat(callbacks.localReply.status()).isEqualTo(507);
        assertThat(callbacks.localReply.body()).isEqualTo("exceeded request buffer limit while retrying upstream");
        assertThat(callbacks.localReply.details()).isEqualTo("request_payload_exceeded_retry_buffer_limit");
        assertThat(store.counter("cluster.backend.retry_or_shadow_abandoned")).isEqualTo(1);
    }

    @Test
    void strictCheckHeadersRejectsBadValues() {
        filter = newFilter(Router.newBuilder().addStrictCheckHeaders("x-envoy-max-retries").build());
        TestHeaderMap request = get();
        request.add("x-envoy-max-retries", "many");
        filter.decodeHeaders(request, true);

        assertThat(callbacks.localReply.status()).isEqualTo(400);
        assertThat(callbacks.localReply.body()).isEqualTo("invalid header 'x-envoy-max-retries' with value 'many'");
        assertThat(callbacks.localReply.details())
                .isEqualTo("request_headers_failed_strict_check{x-envoy-max-retries}");
    }

    private ByteBuf responseBuf(String s) {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer();
        b.writeCharSequence(s, UTF_8);
        buffers.add(b);
        return b;
    }
}
