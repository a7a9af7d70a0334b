package dev.legate.filters.http.fault;

import static dev.legate.filters.http.fault.FaultConfigs.settings;
import static dev.legate.filters.http.fault.FaultConfigs.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.ResponseFlag;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.StreamInfo;
import dev.legate.host.stats.StatsStore;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.TestHeaderMap;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Filter tier: the test kit drives {@link FaultFilter}, no sockets; timers on a manual clock. */
class FaultFilterTest {

    private final StatsStore store = new StatsStore();
    private final FaultStats stats = new FaultStats(store.root().scope("http.ingress"));
    private final List<HttpFilterHarness> harnesses = new ArrayList<>();
    private RandomGenerator random = new SplittableRandom(20261123L);

    @AfterEach
    void closeAll() {
        harnesses.forEach(HttpFilterHarness::close);
    }

    // ---- delays

    @Test
    void fixedDelayHoldsTheRequestOnATimerThenLetsItGo() {
        HttpFilterHarness h = harness("delay: { fixed_delay: 0.2s, percentage: { numerator: 100 } }");
        assertThat(h.decodeHeaders(get("/"), false)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        assertThat(h.decodeData("body", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_WATERMARK);
        assertThat(h.decodeTrailers(TestHeaderMap.of("x-t", "1"))).isEqualTo(FilterTrailersStatus.STOP_ITERATION);
        assertThat(h.streamInfo().responseFlags()).containsExactly(ResponseFlag.DELAY_INJECTED);
        assertThat(counter("delays_injected")).isEqualTo(1);
        assertThat(activeFaults()).isEqualTo(1);

        h.manualDispatcher().advance(199);
        assertThat(h.continueDecodingCalls()).isZero();
        assertThat(h.decodedHeaders()).isNull();
        h.manualDispatcher().advance(1);
        assertThat(h.continueDecodingCalls()).isEqualTo(1);
        assertThat(h.decodedHeaders()).isNotNull();
        assertThat(h.decodedBody()).isEqualTo("body");
        assertThat(h.decodedTrailers().get("x-t")).isEqualTo("1");
        assertThat(activeFaults()).as("a pure delay stops counting once over").isZero();
        assertThat(h.localReplies()).isEmpty();
        // after the delay, data flows again
        assertThat(h.decodeData("more", true)).isEqualTo(FilterDataStatus.CONTINUE);
    }

    @Test
    void aResetDuringTheDelayCancelsIt() {
        HttpFilterHarness h = harness("delay: { fixed_delay: 5s, percentage: { numerator: 100 } }");
        h.decodeHeaders(get("/"), true);
        assertThat(h.manualDispatcher().pendingTasks()).isEqualTo(1);
        assertThat(activeFaults()).isEqualTo(1);
        h.close(); // the host calls onDestroy when the stream is reset
        assertThat(h.manualDispatcher().pendingTasks()).isZero();
        assertThat(activeFaults()).isZero();
        h.manualDispatcher().advance(10_000);
        assertThat(h.continueDecodingCalls()).isZero();
    }

    @Test
    void delayThenAbortDrawsTheAbortWhenTheDelayEnds() {
        HttpFilterHarness h = harness("""
                delay: { fixed_delay: 1s, percentage: { numerator: 100 } }
                abort: { http_status: 503, percentage: { numerator: 100 } }
                """);
        assertThat(h.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        assertThat(h.localReplies()).isEmpty();
        h.manualDispatcher().advance(1000);
        assertThat(h.lastLocalReply().status()).isEqualTo(503);
        assertThat(h.continueDecodingCalls()).isZero();
        assertThat(h.streamInfo().responseFlags())
                .containsExactlyInAnyOrder(ResponseFlag.DELAY_INJECTED, ResponseFlag.FAULT_INJECTED);
        assertThat(counter("delays_injected")).isEqualTo(1);
        assertThat(counter("aborts_injected")).isEqualTo(1);
        assertThat(activeFaults()).as("one stream counts once").isEqualTo(1);
    }

    // ---- aborts

    @Test
    void httpAbortIsALocalReplyWithEnvoysBodyAndDetails() {
        HttpFilterHarness h = harness("abort: { http_status: 503, percentage: { numerator: 100 } }");
        assertThat(h.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        HttpFilterHarness.LocalReply r = h.lastLocalReply();
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.body()).isEqualTo("fault filter abort");
        assertThat(r.details()).isEqualTo("fault_filter_abort");
        assertThat(r.headers().get("grpc-status")).isNull();
        assertThat(h.streamInfo().responseFlags()).containsExactly(ResponseFlag.FAULT_INJECTED);
        assertThat(h.streamInfo().responseCodeDetails()).isEqualTo("fault_filter_abort");
        assertThat(counter("aborts_injected")).isEqualTo(1);
        assertThat(counter("delays_injected")).isZero();
    }

    @Test
    void grpcAbortAnswersAGrpcRequestWith200AndTheGrpcStatus() {
        HttpFilterHarness h = harness("abort: { grpc_status: 14, percentage: { numerator: 100 } }");
        h.decodeHeaders(grpc(), true);
        HttpFilterHarness.LocalReply r = h.lastLocalReply();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("grpc-status")).isEqualTo("14");
        assertThat(r.details()).isEqualTo("fault_filter_abort");

        // a plain HTTP request gets the 200 without a grpc-status, as Envoy's local reply for non-gRPC requests
        HttpFilterHarness plain = harness("abort: { grpc_status: 14, percentage: { numerator: 100 } }");
        plain.decodeHeaders(get("/"), true);
        assertThat(plain.lastLocalReply().status()).isEqualTo(200);
        assertThat(plain.lastLocalReply().headers().get("grpc-status")).isNull();
        assertThat(counter("aborts_injected")).isEqualTo(2);
    }

    @Test
    void grpcIsEnvoysExactContentTypeRule() {
        // Envoy's isGrpcRequestHeaders: application/grpc or application/grpc+..., case-sensitive, no parameters
        for (String ct : new String[] {"application/grpc;charset=utf-8", "Application/gRPC", "application/grpc-web"}) {
            HttpFilterHarness h = harness("abort: { grpc_status: 14, percentage: { numerator: 100 } }");
            TestHeaderMap req = grpc();
            req.set("content-type", ct);
            h.decodeHeaders(req, true);
            assertThat(h.lastLocalReply().headers().get("grpc-status")).as(ct).isNull();
        }
        HttpFilterHarness proto = harness("abort: { grpc_status: 14, percentage: { numerator: 100 } }");
        TestHeaderMap req = grpc();
        req.set("content-type", "application/grpc+proto");
        proto.decodeHeaders(req, true);
        assertThat(proto.lastLocalReply().headers().get("grpc-status")).isEqualTo("14");
    }

    // ---- header-controlled faults

    @Test
    void headerAbortTakesTheStatusFromTheRequest() {
        String config = "abort: { header_abort: {}, percentage: { numerator: 100 } }";
        HttpFilterHarness h = harness(config);
        h.decodeHeaders(get("/", "x-envoy-fault-abort-request", "429"), true);
        assertThat(h.lastLocalReply().status()).isEqualTo(429);

        HttpFilterHarness g = harness(config);
        g.decodeHeaders(grpc("x-envoy-fault-abort-grpc-request", "7"), true);
        assertThat(g.lastLocalReply().status()).isEqualTo(200);
        assertThat(g.lastLocalReply().headers().get("grpc-status")).isEqualTo("7");

        HttpFilterHarness both = harness(config);
        both.decodeHeaders(grpc("x-envoy-fault-abort-request", "503", "x-envoy-fault-abort-grpc-request", "7"), true);
        assertThat(both.lastLocalReply().status()).as("an HTTP status wins over a gRPC one").isEqualTo(503);
        assertThat(both.lastLocalReply().headers().get("grpc-status")).isNull();

        for (String bad : List.of("600", "199", "abc", "")) {
            HttpFilterHarness n = harness(config);
            assertThat(n.decodeHeaders(get("/", "x-envoy-fault-abort-request", bad), true))
                    .as("x-envoy-fault-abort-request: %s", bad).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(n.localReplies()).isEmpty();
        }
        HttpFilterHarness none = harness(config);
        assertThat(none.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(activeFaults()).as("no fault, no active fault").isEqualTo(3);
    }

    @Test
    void headerDelayTakesTheMillisecondsFromTheRequest() {
        String config = "delay: { header_delay: {}, percentage: { numerator: 100 } }";
        HttpFilterHarness h = harness(config);
        assertThat(h.decodeHeaders(get("/", "x-envoy-fault-delay-request", "50"), true))
                .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        assertThat(h.manualDispatcher().nextDueInMillis()).isEqualTo(50);
        h.manualDispatcher().advance(50);
        assertThat(h.continueDecodingCalls()).isEqualTo(1);

        for (String bad : List.of("0", "-5", "5s")) {
            HttpFilterHarness n = harness(config);
            assertThat(n.decodeHeaders(get("/", "x-envoy-fault-delay-request", bad), true))
                    .as("x-envoy-fault-delay-request: %s", bad).isEqualTo(FilterHeadersStatus.CONTINUE);
        }
        assertThat(harness(config).decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(counter("delays_injected")).isEqualTo(1);
    }

    @Test
    void headerLimitTakesTheRateFromTheRequest() {
        String config = "response_rate_limit: { header_limit: {}, percentage: { numerator: 100 } }";
        HttpFilterHarness h = harness(config);
        h.decodeHeaders(get("/", "x-envoy-fault-throughput-response", "1"), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
        assertThat(h.encodeResponseData(Unpooled.wrappedBuffer(new byte[4096]), true))
                .isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
        h.manualDispatcher().advance(10_000);
        assertThat(h.responseComplete()).isTrue();
        HttpFilterHarness.Injected last = h.injectedEncodedData().get(h.injectedEncodedData().size() - 1);
        long startedAt = h.injectedEncodedData().get(0).atMillis();
        // 4 KiB at 1 KiB/s: 51 bytes at once, the rest at 1 KiB/s
        assertThat(last.atMillis() - startedAt).isBetween(3800L, 4100L);
        assertThat(counter("response_rl_injected")).isEqualTo(1);

        for (String bad : List.of("0", "x")) {
            HttpFilterHarness n = harness(config);
            n.decodeHeaders(get("/", "x-envoy-fault-throughput-response", bad), true);
            n.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
            assertThat(n.encodeResponseData("body", true)).isEqualTo(FilterDataStatus.CONTINUE);
        }
        assertThat(counter("response_rl_injected")).isEqualTo(1);
    }

    // ---- percentages, statistically (fixed seed, bounds many standard deviations wide)

    @Test
    void abortPercentageHoldsForEachDenominator() {
        // 10 000 draws at p = 0.25: standard deviation ~43 aborts, so ±350 is > 8 sigma (cannot pass by chance)
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 25 } }", 10_000))
                .isBetween(2_150, 2_850);
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 2500, denominator: TEN_THOUSAND } }",
                10_000)).isBetween(2_150, 2_850);
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 250000, denominator: MILLION } }",
                10_000)).isBetween(2_150, 2_850);
        // 1 in a million: about 0.01 of 10 000; at most a handful
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 1, denominator: MILLION } }",
                10_000)).isBetween(0, 3);
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 0 } }", 2_000)).isZero();
        assertThat(abortRate("abort: { http_status: 503 }", 2_000)).as("no percentage: never").isZero();
        assertThat(abortRate("abort: { http_status: 503, percentage: { numerator: 100 } }", 2_000)).isEqualTo(2_000);
    }

    @Test
    void delayPercentageIsItsOwnDraw() {
        String config = """
                delay: { fixed_delay: 1s, percentage: { numerator: 40 } }
                abort: { http_status: 503, percentage: { numerator: 10 } }
                """;
        FaultSettings compiled = settings(config);
        int delayed = 0;
        int aborted = 0;
        for (int i = 0; i < 10_000; i++) {
            try (HttpFilterHarness h = harnessUnmanaged(compiled)) {
                if (h.decodeHeaders(get("/"), true) == FilterHeadersStatus.STOP_ITERATION && h.localReplies().isEmpty()) {
                    delayed++;
                    h.manualDispatcher().advance(1000);
                }
                aborted += h.localReplies().size();
            }
        }
        // delays: p = 0.4, sd ~49; aborts: p = 0.1 (drawn once per request, when immediate or after the delay), sd ~30
        assertThat(delayed).isBetween(3_700, 4_300);
        assertThat(aborted).isBetween(800, 1_200);
    }

    @Test
    void percentageHeadersAreCappedAtTheConfiguredNumerator() {
        String config = "abort: { header_abort: {}, percentage: { numerator: 50 } }";
        // 10 000 draws each: sd ~30 at 10 %, ~50 at 50 %; the bounds are 10 sd wide
        // the header lowers the chance to 10 %
        assertThat(abortRate(config, 10_000, "x-envoy-fault-abort-request", "503",
                "x-envoy-fault-abort-request-percentage", "10")).isBetween(700, 1_300);
        // ... but cannot raise it past the configured 50 %
        assertThat(abortRate(config, 10_000, "x-envoy-fault-abort-request", "503",
                "x-envoy-fault-abort-request-percentage", "100")).isBetween(4_500, 5_500);
        // a non-number means the configured percentage
        assertThat(abortRate(config, 10_000, "x-envoy-fault-abort-request", "503",
                "x-envoy-fault-abort-request-percentage", "ten")).isBetween(4_500, 5_500);
        // the delay's header works the same way
        FaultSettings delay = settings("delay: { header_delay: {}, percentage: { numerator: 100 } }");
        int delayed = 0;
        for (int i = 0; i < 10_000; i++) {
            try (HttpFilterHarness h = harnessUnmanaged(delay)) {
                if (h.decodeHeaders(get("/", "x-envoy-fault-delay-request", "5",
                        "x-envoy-fault-delay-request-percentage", "30"), true) == FilterHeadersStatus.STOP_ITERATION) {
                    delayed++;
                }
            }
        }
        assertThat(delayed).isBetween(2_700, 3_300); // p = 0.3, sd ~46
    }

    // ---- which requests

    @Test
    void upstreamClusterDownstreamNodesAndHeadersMustAllMatch() {
        String config = """
                abort: { http_status: 503, percentage: { numerator: 100 } }
                upstream_cluster: backend
                downstream_nodes: [ node-a ]
                headers: [ { name: x-chaos, exact_match: "on" } ]
                """;
        HeaderMap matching = get("/", "x-envoy-downstream-service-node", "node-a", "x-chaos", "on");
        assertThat(harness(config).route(route("backend")).decodeHeaders(matching, true))
                .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        assertThat(harness(config).route(route("other")).decodeHeaders(TestHeaderMap.copyOf(matching), true))
                .isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(harness(config).decodeHeaders(TestHeaderMap.copyOf(matching), true))
                .as("no route").isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(harness(config).route(route("backend")).decodeHeaders(
                get("/", "x-envoy-downstream-service-node", "node-b", "x-chaos", "on"), true))
                .isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(harness(config).route(route("backend")).decodeHeaders(get("/", "x-chaos", "on"), true))
                .as("no node header").isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(harness(config).route(route("backend")).decodeHeaders(
                get("/", "x-envoy-downstream-service-node", "node-a", "x-chaos", "off"), true))
                .isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(counter("aborts_injected")).isEqualTo(1);
    }

    @Test
    void maxActiveFaultsSkipsFaultsAndCountsTheOverflow() {
        String config = """
                delay: { fixed_delay: 1s, percentage: { numerator: 100 } }
                max_active_faults: 1
                """;
        HttpFilterHarness first = harness(config);
        assertThat(first.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        HttpFilterHarness second = harness(config);
        assertThat(second.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(second.streamInfo().responseFlags()).isEmpty();
        assertThat(counter("faults_overflow")).isEqualTo(1);
        assertThat(counter("delays_injected")).isEqualTo(1);
        first.manualDispatcher().advance(1000);
        assertThat(activeFaults()).isZero();
        HttpFilterHarness third = harness(config);
        assertThat(third.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
    }

    @Test
    void aRoutesConfigReplacesTheFiltersConfig() {
        String listener = "delay: { fixed_delay: 1s, percentage: { numerator: 100 } }";
        HttpFilterHarness h = harness(listener)
                .perRouteConfig(settings("abort: { http_status: 418, percentage: { numerator: 100 } }"));
        assertThat(h.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.STOP_ITERATION);
        assertThat(h.lastLocalReply().status()).as("the route's abort, not the filter's delay").isEqualTo(418);
        assertThat(counter("delays_injected")).isZero();

        // an empty per-route HTTPFault turns faults off for that route
        HttpFilterHarness off = harness(listener).perRouteConfig(settings("{}"));
        assertThat(off.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
    }

    @Test
    void perDownstreamClusterStatsUnlessDisabled() {
        String config = """
                delay: { fixed_delay: 1s, percentage: { numerator: 100 } }
                abort: { http_status: 503, percentage: { numerator: 100 } }
                """;
        HttpFilterHarness h = harness(config);
        h.decodeHeaders(get("/", "x-envoy-downstream-service-cluster", "frontend"), true);
        h.manualDispatcher().advance(1000);
        assertThat(counter("frontend.delays_injected")).isEqualTo(1);
        assertThat(counter("frontend.aborts_injected")).isEqualTo(1);

        HttpFilterHarness off = harness(config + "disable_downstream_cluster_stats: true\n");
        off.decodeHeaders(get("/", "x-envoy-downstream-service-cluster", "backoffice"), true);
        off.manualDispatcher().advance(1000);
        assertThat(store.counter("http.ingress.fault.backoffice.delays_injected")).isZero();
        assertThat(counter("delays_injected")).isEqualTo(2);
        assertThat(counter("aborts_injected")).isEqualTo(2);
    }

    // ---- response rate limit

    @Test
    void responseRateLimitPacesTheBodyOnTheTimer() {
        HttpFilterHarness h = harness("response_rate_limit: { fixed_limit: { limit_kbps: 32 }, percentage: { numerator: 100 } }");
        assertThat(h.decodeHeaders(get("/"), true)).isEqualTo(FilterHeadersStatus.CONTINUE);
        assertThat(counter("response_rl_injected")).isEqualTo(1);
        assertThat(activeFaults()).isEqualTo(1);
        assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false))
                .isEqualTo(FilterHeadersStatus.CONTINUE);
        byte[] body = new byte[64 * 1024];
        new SplittableRandom(1).nextBytes(body);
        assertThat(h.encodeResponseData(Unpooled.wrappedBuffer(body, 0, 40_000), false))
                .isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
        assertThat(h.encodeResponseData(Unpooled.wrappedBuffer(body, 40_000, body.length - 40_000), true))
                .isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
        assertThat(h.encodedBody()).isEmpty();
        for (int i = 0; i < 200 && !h.responseComplete(); i++) {
            h.manualDispatcher().advance(10);
        }
        assertThat(h.responseComplete()).isTrue();
        List<HttpFilterHarness.Injected> slices = h.injectedEncodedData();
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        slices.forEach(s -> got.writeBytes(s.bytes()));
        assertThat(got.toByteArray()).as("every byte, in order").isEqualTo(body);
        assertThat(slices.get(slices.size() - 1).endStream()).isTrue();
        assertThat(slices.subList(0, slices.size() - 1)).allMatch(s -> !s.endStream());
        // 64 KiB at 32 KiB/s, starting with one 50 ms slice: ~1.95 s from the first to the last slice
        long span = slices.get(slices.size() - 1).atMillis() - slices.get(0).atMillis();
        assertThat(span).isBetween(1_850L, 2_050L);
        // no slice larger than what 32 KiB/s allows per 50 ms timer tick (+1 byte of rounding)
        assertThat(slices).allMatch(s -> s.length() <= 32 * 1024 / 20 + 1);
        h.close();
        assertThat(activeFaults()).isZero();
    }

    @Test
    void trailersWaitForTheBodyToDrain() {
        HttpFilterHarness h = harness("response_rate_limit: { fixed_limit: { limit_kbps: 1 }, percentage: { numerator: 100 } }");
        h.decodeHeaders(get("/"), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
        h.encodeResponseData(Unpooled.wrappedBuffer(new byte[200]), false);
        assertThat(h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0")))
                .isEqualTo(FilterTrailersStatus.STOP_ITERATION);
        h.manualDispatcher().advance(50);
        assertThat(h.encodedTrailers()).isNull();
        h.manualDispatcher().advance(1000);
        assertThat(h.encodedTrailers().get("grpc-status")).isEqualTo("0");
        assertThat(h.injectedEncodedData()).allMatch(s -> !s.endStream());
        assertThat(h.encodedBody()).hasSize(200);
        assertThat(h.continueEncodingCalls()).isEqualTo(1);
    }

    @Test
    void rateLimiterAppliesBackPressurePastTheBufferLimit() {
        HttpFilterHarness h = harness("response_rate_limit: { fixed_limit: { limit_kbps: 100 }, percentage: { numerator: 100 } }")
                .bufferLimit(16 * 1024);
        h.decodeHeaders(get("/"), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
        h.encodeResponseData(Unpooled.wrappedBuffer(new byte[10 * 1024]), false);
        assertThat(h.encoderAboveHighWatermarkCalls()).isZero();
        h.encodeResponseData(Unpooled.wrappedBuffer(new byte[10 * 1024]), false);
        assertThat(h.encoderAboveHighWatermarkCalls()).isEqualTo(1);
        h.encodeResponseData(Unpooled.wrappedBuffer(new byte[1024]), false);
        assertThat(h.encoderAboveHighWatermarkCalls()).as("once per crossing").isEqualTo(1);
        h.manualDispatcher().advance(0);   // 5 KiB go at once
        assertThat(h.encoderBelowLowWatermarkCalls()).isZero();
        h.manualDispatcher().advance(100); // 10 KiB more: 6 KiB left, below half the limit
        assertThat(h.encoderBelowLowWatermarkCalls()).isEqualTo(1);
        h.manualDispatcher().advance(1000);
        assertThat(h.encodedBody()).hasSize(21 * 1024);
        assertThat(h.responseComplete()).isFalse();
    }

    @Test
    void aResetWhileRateLimitingReleasesTheHeldBody() {
        HttpFilterHarness h = harness("response_rate_limit: { fixed_limit: { limit_kbps: 1 }, percentage: { numerator: 100 } }");
        h.decodeHeaders(get("/"), true);
        h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
        h.encodeResponseData(Unpooled.directBuffer(8192).writeZero(8192), true);
        h.manualDispatcher().advance(100);
        h.close(); // LeakCheck fails the class if the held slices were not released
        assertThat(h.manualDispatcher().pendingTasks()).isZero();
        assertThat(activeFaults()).isZero();
    }

    // ---- helpers

    private int abortRate(String config, int requests, String... headers) {
        FaultSettings compiled = settings(config);
        int aborted = 0;
        for (int i = 0; i < requests; i++) {
            try (HttpFilterHarness h = harnessUnmanaged(compiled)) {
                h.decodeHeaders(get("/", headers), true);
                aborted += h.localReplies().size();
            }
        }
        return aborted;
    }

    private HttpFilterHarness harness(String yaml) {
        HttpFilterHarness h = harnessUnmanaged(yaml);
        harnesses.add(h);
        return h;
    }

    private HttpFilterHarness harnessUnmanaged(String yaml) {
        return harnessUnmanaged(settings(yaml));
    }

    private HttpFilterHarness harnessUnmanaged(FaultSettings s) {
        RandomGenerator r = random;
        return HttpFilterHarness.of(callbacks -> new FaultFilter(s, stats, r, callbacks));
    }

    private long counter(String name) {
        return store.counter("http.ingress.fault." + name);
    }

    private long activeFaults() {
        return store.gauge("http.ingress.fault.active_faults");
    }

    private static TestHeaderMap get(String path, String... headers) {
        TestHeaderMap h = TestHeaderMap.of(":method", "GET", ":path", path, ":authority", "x", ":scheme", "http");
        for (int i = 0; i < headers.length; i += 2) {
            h.add(headers[i], headers[i + 1]);
        }
        return h;
    }

    private static TestHeaderMap grpc(String... headers) {
        TestHeaderMap h = get("/pkg.Service/Method", headers);
        h.set(":method", "POST");
        h.set("content-type", "application/grpc");
        return h;
    }

    private static Route route(String cluster) {
        RouteEntry entry = new RouteEntry() {
            @Override
            public String clusterName() {
                return cluster;
            }

            @Override
            public int clusterNotFoundResponseCode() {
                return 503;
            }

            @Override
            public long timeoutMillis() {
                return 15_000;
            }

            @Override
            public long idleTimeoutMillis() {
                return -1;
            }

            @Override
            public RetryPolicy retryPolicy() {
                return RetryPolicy.NONE;
            }

            @Override
            public boolean autoHostRewrite() {
                return false;
            }

            @Override
            public void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo) {
            }

            @Override
            public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
            }
        };
        return new Route() {
            @Override
            public String name() {
                return "";
            }

            @Override
            public io.envoyproxy.envoy.config.route.v3.Route config() {
                return io.envoyproxy.envoy.config.route.v3.Route.getDefaultInstance();
            }

            @Override
            public VirtualHost virtualHost() {
                return VirtualHost.getDefaultInstance();
            }

            @Override
            public RouteEntry routeEntry() {
                return entry;
            }

            @Override
            public DirectResponseEntry directResponseEntry() {
                return null;
            }

            @Override
            public Object perFilterConfig(String filterName) {
                return null;
            }
        };
    }
}
