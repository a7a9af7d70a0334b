package dev.legate.filters.network.httpconnectionmanager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.HeaderMap;
import dev.legate.testkit.TestHeaderMap;
import dev.legate.testkit.TestStreamInfo;
import org.junit.jupiter.api.Test;

/**
 * Header policy tier: x-forwarded-for and the trusted address, internal/external, x-envoy-* sanitation,
 * x-request-id, and the response's base headers (Envoy's {@code ConnectionManagerUtility}, §1.4–1.6).
 */
class RequestHeaderPolicyTest {

    private static final String UUID4 = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";

    static HttpConnectionManagerSettings settings(String extra) {
        return HttpConnectionManagerConfigTest.settings("stat_prefix: 'x' " + HttpConnectionManagerConfigTest.ROUTES
                + HttpConnectionManagerConfigTest.ROUTER + extra);
    }

    static HeaderMap mutate(HttpConnectionManagerSettings s, String peer, HeaderMap h) {
        s.mutateRequestHeaders(h, TestStreamInfo.from(peer));
        return h;
    }

    static HeaderMap get() {
        return TestHeaderMap.request("example.com", "/");
    }

    @Test
    void edgeProxyAppendsThePeerAndTrustsIt() {
        // Envoy docs: use_remote_address, no trusted hops, peer 192.0.2.5.
        HeaderMap h = mutate(settings("use_remote_address { value: true }"), "192.0.2.5",
                get().add("x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1")
                        .add("x-envoy-internal", "true"));
        assertThat(h.get("x-forwarded-for")).isEqualTo("203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5");
        assertThat(h.get("x-envoy-external-address")).isEqualTo("192.0.2.5");
        assertThat(h.contains("x-envoy-internal")).isFalse();
        assertThat(h.get("x-forwarded-proto")).isEqualTo("http");
        assertThat(h.scheme()).isEqualTo("http");
    }

    @Test
    void trustedHopsPickTheAddressFromTheRight() {
        HeaderMap h = mutate(settings("use_remote_address { value: true } xff_num_trusted_hops: 2"), "192.0.2.5",
                get().add("x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1")
                        .add("x-forwarded-proto", "https"));
        assertThat(h.get("x-envoy-external-address")).isEqualTo("203.0.113.10");
        // A trusted hop's x-forwarded-proto is kept.
        assertThat(h.get("x-forwarded-proto")).isEqualTo("https");
        assertThat(h.scheme()).isEqualTo("https");
    }

    @Test
    void untrustedForwardedProtoIsOverwritten() {
        HeaderMap h = mutate(settings("use_remote_address { value: true }"), "192.0.2.5",
                get().add("x-forwarded-proto", "https"));
        assertThat(h.get("x-forwarded-proto")).isEqualTo("http");
    }

    @Test
    void internalHopWithoutRemoteAddress() {
        // Envoy docs: use_remote_address false, XFF "10.20.30.40" -> internal.
        HeaderMap h = mutate(settings(""), "10.0.0.9", get().add("x-forwarded-for", "10.20.30.40")
                .add("x-envoy-retry-on", "5xx").add("x-request-id", "abc"));
        assertThat(h.get("x-envoy-internal")).isEqualTo("true");
        assertThat(h.get("x-forwarded-for")).isEqualTo("10.20.30.40");
        assertThat(h.get("x-envoy-retry-on")).isEqualTo("5xx");
        assertThat(h.get("x-request-id")).isEqualTo("abc");
        assertThat(h.contains("x-envoy-external-address")).isFalse();
    }

    @Test
    void twoAddressesAreNeverInternalWithoutRemoteAddress() {
        HeaderMap h = mutate(settings(""), "10.0.0.9", get().add("x-forwarded-for", "10.0.0.1,10.0.0.2"));
        assertThat(h.contains("x-envoy-internal")).isFalse();
        // Not an edge request: x-envoy-* headers survive, no external address is set.
        assertThat(h.contains("x-envoy-external-address")).isFalse();
    }

    @Test
    void internalPeerWithRemoteAddress() {
        HeaderMap h = mutate(settings("use_remote_address { value: true }"), "10.1.1.1",
                get().add("x-envoy-max-retries", "2").add("x-request-id", "keep-me"));
        assertThat(h.get("x-envoy-internal")).isEqualTo("true");
        assertThat(h.get("x-forwarded-for")).isEqualTo("10.1.1.1");
        assertThat(h.get("x-envoy-max-retries")).isEqualTo("2");
        assertThat(h.get("x-request-id")).isEqualTo("keep-me");
    }

    @Test
    void loopbackPeerAppendsTheLocalAddress() {
        HeaderMap h = mutate(settings("use_remote_address { value: true }"), "127.0.0.1", get());
        assertThat(h.get("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(h.get("x-envoy-internal")).isEqualTo("true");
    }

    @Test
    void edgeRequestsLoseExternalOnlyHeadersAndTheirRequestId() {
        HeaderMap h = mutate(settings("use_remote_address { value: true }"), "203.0.113.7", get().add("x-envoy-retry-on", "5xx").add("x-envoy-upstream-rq-timeout-ms", "1")
                        .add("x-envoy-external-address", "1.2.3.4").add("x-request-id", "client-chosen")
                        .add("x-forwarded-client-cert", "By=x"));
        assertThat(h.contains("x-envoy-retry-on")).isFalse();
        assertThat(h.contains("x-envoy-upstream-rq-timeout-ms")).isFalse();
        assertThat(h.get("x-envoy-external-address")).isEqualTo("203.0.113.7");
        assertThat(h.get("x-request-id")).matches(UUID4).isNotEqualTo("client-chosen");
        assertThat(h.contains("x-forwarded-client-cert")).isFalse();
    }

    @Test
    void internalOnlyHeadersAreRemovedFromExternalRequests() {
        HttpConnectionManagerSettings s = HttpConnectionManagerConfigTest.settings("stat_prefix: 'x' "
                + HttpConnectionManagerConfigTest.ROUTER + "use_remote_address { value: true } "
                + "route_config { internal_only_headers: 'X-Secret' virtual_hosts { name: 'v' domains: '*' } }");
        assertThat(mutate(s, "203.0.113.7", get().add("x-secret", "1")).contains("x-secret")).isFalse();
        assertThat(mutate(s, "10.0.0.1", get().add("x-secret", "1")).contains("x-secret")).isTrue();
    }

    @Test
    void preserveExternalRequestId() {
        HeaderMap h = mutate(settings("use_remote_address { value: true } preserve_external_request_id: true"),
                "203.0.113.7", get().add("x-request-id", "client-chosen"));
        assertThat(h.get("x-request-id")).isEqualTo("client-chosen");
    }

    @Test
    void requestIdIsGeneratedWhenAbsentUnlessDisabled() {
        HeaderMap h = mutate(settings(""), "10.0.0.1", get());
        assertThat(h.get("x-request-id")).matches(UUID4);
        HeaderMap h2 = mutate(settings(""), "10.0.0.1", get());
        assertThat(h2.get("x-request-id")).isNotEqualTo(h.get("x-request-id"));
        HeaderMap none = mutate(settings("generate_request_id { value: false }"), "10.0.0.1", get());
        assertThat(none.contains("x-request-id")).isFalse();
    }

    @Test
    void skipXffAppendAndCustomInternalRanges() {
        HttpConnectionManagerSettings s = settings("use_remote_address { value: true } skip_xff_append: true "
                + "internal_address_config { cidr_ranges { address_prefix: '203.0.113.0' prefix_len { value: 24 } } }");
        HeaderMap h = mutate(s, "203.0.113.9", get());
        assertThat(h.contains("x-forwarded-for")).isFalse();
        assertThat(h.get("x-envoy-internal")).isEqualTo("true");
        // With cidr_ranges, RFC 1918 is no longer internal (they replace the default list, as in Envoy).
        assertThat(mutate(s, "10.0.0.1", get()).contains("x-envoy-internal")).isFalse();
    }

    @Test
    void viaUserAgentAndPathAndHostNormalization() {
        HttpConnectionManagerSettings s = settings("via: 'legate' add_user_agent { value: true } merge_slashes: true "
                + "normalize_path { value: true } strip_any_host_port: true strip_trailing_host_dot: true");
        HeaderMap h = mutate(s, "10.0.0.1", TestHeaderMap.request("Example.com.:8080", "//a/./b/../c//d?x=//y")
                .add("via", "1.1 proxy"));
        assertThat(h.get("via")).isEqualTo("1.1 proxy,legate");
        assertThat(h.get("user-agent")).isEqualTo("cluster-1");
        assertThat(h.get("x-envoy-downstream-service-cluster")).isEqualTo("cluster-1");
        assertThat(h.get("x-envoy-downstream-service-node")).isEqualTo("node-1");
        assertThat(h.path()).isEqualTo("/a/c/d?x=//y");
        assertThat(h.authority()).isEqualTo("Example.com");
    }

    @Test
    void stripMatchingHostPortOnlyStripsTheListenerPort() {
        HttpConnectionManagerSettings s = settings("strip_matching_host_port: true");
        assertThat(mutate(s, "10.0.0.1", TestHeaderMap.request("a.com:10000", "/")).authority()).isEqualTo("a.com");
        assertThat(mutate(s, "10.0.0.1", TestHeaderMap.request("a.com:9", "/")).authority()).isEqualTo("a.com:9");
    }

    @Test
    void responseBaseHeaders() {
        HttpConnectionManagerSettings s = settings("always_set_request_id_in_response: true via: 'legate'");
        HeaderMap req = get().add("x-request-id", "rid");
        HeaderMap resp = TestHeaderMap.of(":status", "200", "server", "upstream");
        s.mutateResponseHeaders(resp, req, TestStreamInfo.from("10.0.0.1"));
        assertThat(resp.get("server")).isEqualTo("envoy");
        assertThat(resp.get("date")).matches("[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");
        assertThat(resp.get("x-request-id")).isEqualTo("rid");
        assertThat(resp.get("via")).isEqualTo("legate");

        HeaderMap upstreamDate = TestHeaderMap.of(":status", "200", "date", "Sun, 06 Nov 1994 08:49:37 GMT");
        settings("").mutateResponseHeaders(upstreamDate, req, TestStreamInfo.from("10.0.0.1"));
        assertThat(upstreamDate.get("date")).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
        assertThat(upstreamDate.contains("x-request-id")).isFalse();

        HeaderMap keep = TestHeaderMap.of(":status", "200", "server", "upstream");
        settings("server_name: 'legate' server_header_transformation: APPEND_IF_ABSENT")
                .mutateResponseHeaders(keep, null, TestStreamInfo.from("10.0.0.1"));
        assertThat(keep.get("server")).isEqualTo("upstream");
        HeaderMap absent = TestHeaderMap.of(":status", "200");
        settings("server_name: 'legate' server_header_transformation: APPEND_IF_ABSENT")
                .mutateResponseHeaders(absent, null, TestStreamInfo.from("10.0.0.1"));
        assertThat(absent.get("server")).isEqualTo("legate");
        HeaderMap pass = TestHeaderMap.of(":status", "200");
        settings("server_header_transformation: PASS_THROUGH")
                .mutateResponseHeaders(pass, null, TestStreamInfo.from("10.0.0.1"));
        assertThat(pass.contains("server")).isFalse();
    }

    @Test
    void dateIsFormattedWithTwoDigitDays() {
        assertThat(DateHeader.format(784111777000L)).isEqualTo("Sun, 06 Nov 1994 08:49:37 GMT");
    }

    @Test
    void forwardedForParsingFollowsEnvoy() {
        assertThat(ForwardedFor.lastAddress("1.2.3.4", 0).singleAddress()).isTrue();
        assertThat(ForwardedFor.lastAddress(" 1.2.3.4 , 5.6.7.8 ", 0).address().getHostAddress()).isEqualTo("5.6.7.8");
        assertThat(ForwardedFor.lastAddress("1.2.3.4, 5.6.7.8", 1).address().getHostAddress()).isEqualTo("1.2.3.4");
        assertThat(ForwardedFor.lastAddress("1.2.3.4, 5.6.7.8", 1).singleAddress()).isFalse();
        assertThat(ForwardedFor.lastAddress("1.2.3.4", 1).address()).isNull();
        assertThat(ForwardedFor.lastAddress("not-an-ip", 0).address()).isNull();
        assertThat(ForwardedFor.lastAddress("2001:db8::1", 0).address()).isNotNull();
        assertThat(ForwardedFor.lastAddress(null, 0).address()).isNull();
    }
}
