package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class LowerCaseHeadersFactoryTest {

    @Test
    void namesAreStoredLowerCaseWhateverTheirSpelling() {
        HttpHeaders h = LowerCaseHeadersFactory.HEADERS.newHeaders();
        h.add("Content-Type", "text/plain");
        h.add("X-Custom-Thing", "1");
        h.set("ETAG", "\"e\"");
        h.add("already-lower", "2");
        assertThat(h.names()).containsExactlyInAnyOrder("content-type", "x-custom-thing", "etag", "already-lower");
        assertThat(h.get("CONTENT-TYPE")).isEqualTo("text/plain");
    }

    @Test
    void wellKnownNamesMapToNettysConstantsAndOthersToACopy() {
        assertThat(LowerCaseHeadersFactory.lower("Content-Length")).isSameAs(HttpHeaderNames.CONTENT_LENGTH);
        assertThat(LowerCaseHeadersFactory.lower("X-Request-Id").toString()).isEqualTo("x-request-id");
        assertThat(LowerCaseHeadersFactory.lower("X-Not-Known").toString()).isEqualTo("x-not-known");
        String lower = "content-length";
        assertThat(LowerCaseHeadersFactory.lower(lower)).isSameAs(lower);
    }
}
