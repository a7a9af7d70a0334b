package dev.legate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class HttpFilterHarnessTest {

    /** Holds request headers for a second, then continues; answers 403 to DELETE; tags every response. */
    static final class DelayFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;

        DelayFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            if ("DELETE".equals(headers.method())) {
                cb.sendLocalReply(403, "denied", h -> h.add("x-why", "policy"), "test.denied");
                return FilterHeadersStatus.STOP_ITERATION;
            }
            cb.dispatcher().schedule(cb::continueDecoding, 1, TimeUnit.SECONDS);
            return FilterHeadersStatus.STOP_ITERATION;
        }

        @Override
        public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
            return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
        }

        @Override
        public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
            headers.add("x-tag", "1");
            return FilterHeadersStatus.CONTINUE;
        }
    }

    @Test
    void holdsBuffersAndContinuesOnTimer() {
        try (HttpFilterHarness h = HttpFilterHarness.of(DelayFilter::new)) {
            assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "POST", ":path", "/"), false))
                    .isEqualTo(FilterHeadersStatus.STOP_ITERATION);
            assertThat(h.decodeData("body", true)).isEqualTo(FilterDataStatus.STOP_ITERATION_AND_BUFFER);
            assertThat(h.decodedHeaders()).isNull();
            assertThat(h.decodingBuffer().readableBytes()).isEqualTo(4);

            h.manualDispatcher().advance(1_000);
            assertThat(h.continueDecodingCalls()).isEqualTo(1);
            assertThat(h.decodedHeaders().path()).isEqualTo("/");
            assertThat(h.decodedBody()).isEqualTo("body");

            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(h.encodedHeaders().get("x-tag")).isEqualTo("1");
            assertThat(h.responseComplete()).isTrue();
        }
    }

    @Test
    void localReplyPassesThroughTheEncoder() {
        try (HttpFilterHarness h = HttpFilterHarness.of(DelayFilter::new)) {
            h.decodeHeaders(TestHeaderMap.of(":method", "DELETE", ":path", "/x"), true);
            HttpFilterHarness.LocalReply r = h.lastLocalReply();
            assertThat(r.status()).isEqualTo(403);
            assertThat(r.body()).isEqualTo("denied");
            assertThat(r.details()).isEqualTo("test.denied");
            assertThat(r.headers().get("x-why")).isEqualTo("policy");
            assertThat(r.headers().get("x-tag")).isEqualTo("1");
            assertThat(r.headers().get("content-type")).isEqualTo("text/plain");
            assertThat(h.encodedBody()).isEqualTo("denied");
            assertThat(h.streamInfo().responseCode()).isEqualTo(403);
        }
    }

    /** Keeps the response body and releases it later through injectEncodedDataToFilterChain; holds trailers. */
    static final class PacingFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;
        private ByteBuf held;

        PacingFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
            held = data.retainedSlice();
            cb.dispatcher().schedule(() -> {
                cb.injectEncodedDataToFilterChain(held.readRetainedSlice(2), false);
                cb.injectEncodedDataToFilterChain(held, false);
                cb.continueEncoding();
            }, 10, TimeUnit.MILLISECONDS);
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }

        @Override
        public dev.legate.api.http.FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
            cb.onEncoderFilterAboveWriteBufferHighWatermark();
            return dev.legate.api.http.FilterTrailersStatus.STOP_ITERATION;
        }
    }

    @Test
    void injectedDataGoesDownstreamAndHeldTrailersFollowContinue() {
        try (HttpFilterHarness h = HttpFilterHarness.of(PacingFilter::new)) {
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), false);
            assertThat(h.encodeResponseData("abcd", false)).isEqualTo(FilterDataStatus.STOP_ITERATION_NO_BUFFER);
            h.encodeResponseTrailers(TestHeaderMap.of("x-trailer", "t"));
            assertThat(h.encodedBody()).isEmpty();
            assertThat(h.encodedTrailers()).isNull();
            assertThat(h.encoderAboveHighWatermarkCalls()).isEqualTo(1);
            long start = h.manualDispatcher().currentTimeMillis();
            h.manualDispatcher().advance(10);
            assertThat(h.injectedEncodedData()).extracting(HttpFilterHarness.Injected::length).containsExactly(2, 2);
            assertThat(h.injectedEncodedData().get(0).atMillis()).isEqualTo(start + 10);
            assertThat(h.encodedBody()).isEqualTo("abcd");
            assertThat(h.encodedTrailers().get("x-trailer")).isEqualTo("t");
            assertThat(h.responseComplete()).isTrue();
        }
    }

    @Test
    void headerMapKeepsPseudoHeadersFirstAndValuesInOrder() {
        TestHeaderMap m = TestHeaderMap.of("Accept", "a", ":path", "/", "accept", "b");
        m.add(":method", "GET");
        assertThat(m.getAll("ACCEPT")).containsExactly("a", "b");
        assertThat(m.iterator().next().getKey()).isEqualTo(":path");
        StringBuilder names = new StringBuilder();
        m.forEach((k, v) -> names.append(k).append(' '));
        assertThat(names.toString()).isEqualTo(":path :method accept accept ");
        assertThat(m.remove(":path")).isTrue();
        m.add(":status", "200");
        assertThat(m.iterator().next().getKey()).isEqualTo(":method");
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.set("accept", "c").getAll("accept")).containsExactly("c");
    }
}
