package dev.legate.examples.addheader;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.testkit.HttpFilterHarness;
import dev.legate.testkit.LeakCheck;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Filter tier: the filter driven by the test kit's harness, no sockets. */
@ExtendWith(LeakCheck.class)
class AddHeaderFilterTest {

    private final AddHeaderFilterFactory factory = new AddHeaderFilterFactory();

    private HttpFilterHarness harness(String header, String value) {
        return HttpFilterHarness.of(factory.create(new AddHeaderConfig(header, value), new TestFactoryContext()));
    }

    @Test
    void addsTheHeaderToAResponseAndLeavesTheRequestAlone() {
        try (HttpFilterHarness h = harness("X-Served-By", "legate")) {
            TestHeaderMap request = TestHeaderMap.of(":method", "POST", ":path", "/upload", ":authority", "a");
            assertThat(h.decodeHeaders(request, false)).isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.decodeData("payload", true)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.decodedHeaders().contains("x-served-by")).isFalse();
            assertThat(h.decodedBody()).isEqualTo("payload");

            assertThat(h.encodeResponseHeaders(TestHeaderMap.of(":status", "200", "content-length", "2"), false))
                    .isEqualTo(FilterHeadersStatus.CONTINUE);
            assertThat(h.encodeResponseData("ok", false)).isEqualTo(FilterDataStatus.CONTINUE);
            assertThat(h.encodeResponseTrailers(TestHeaderMap.of("grpc-status", "0")))
                    .isEqualTo(FilterTrailersStatus.CONTINUE);

            assertThat(h.encodedHeaders().get("x-served-by")).isEqualTo("legate");
            assertThat(h.encodedHeaders().status()).isEqualTo(200);
            assertThat(h.encodedBody()).isEqualTo("ok");
            assertThat(h.responseComplete()).isTrue();
            assertThat(h.localReplies()).isEmpty();
        }
    }

    @Test
    void keepsAnUpstreamValueAndAppends() {
        try (HttpFilterHarness h = harness("via", "legate")) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true);
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "204", "via", "1.1 origin"), true);
            assertThat(h.encodedHeaders().getAll("via")).containsExactly("1.1 origin", "legate");
        }
    }

    @Test
    void addsTheHeaderToLocalRepliesToo() {
        try (HttpFilterHarness h = harness("x-served-by", "legate")) {
            h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/nowhere"), true);
            // What the router does when no route matches: a local reply that passes through the encoders.
            h.sendLocalReply(404, "", null, "route_not_found");
            HttpFilterHarness.LocalReply reply = h.lastLocalReply();
            assertThat(reply.status()).isEqualTo(404);
            assertThat(reply.headers().get("x-served-by")).isEqualTo("legate");
            assertThat(h.encodedHeaders().get("x-served-by")).isEqualTo("legate");
        }
    }

    @Test
    void emptyValueIsAllowed() {
        try (HttpFilterHarness h = harness("x-empty", "")) {
            h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
            assertThat(h.encodedHeaders().getAll("x-empty")).containsExactly("");
        }
    }
}
