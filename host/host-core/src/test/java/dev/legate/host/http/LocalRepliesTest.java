package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.HeaderMap;
import org.junit.jupiter.api.Test;

/**
 * Local reply shapes (Envoy's {@code Http::Utility::prepareLocalReply}): plain text, and the gRPC trailers-only
 * form with {@code grpc-status} mapped from the HTTP status the router or the host asked for.
 */
class LocalRepliesTest {

    private static NettyHeaderMap grpcRequest(String contentType) {
        NettyHeaderMap h = new NettyHeaderMap();
        h.set(HeaderMap.METHOD, "POST");
        h.set(HeaderMap.PATH, "/helloworld.Greeter/SayHello");
        h.set("content-type", contentType);
        return h;
    }

    @Test
    void grpcIsDecidedByTheRequestContentTypeAsEnvoyDoes() {
        assertThat(LocalReplies.isGrpc(grpcRequest("application/grpc"))).isTrue();
        assertThat(LocalReplies.isGrpc(grpcRequest("application/grpc+proto"))).isTrue();
        assertThat(LocalReplies.isGrpc(grpcRequest("application/grpc-web+proto")))
                .as("gRPC-Web local replies are plain HTTP").isFalse();
        assertThat(LocalReplies.isGrpc(grpcRequest("text/plain"))).isFalse();
        assertThat(LocalReplies.isGrpc(null)).isFalse();
    }

    @Test
    void eachRouterReplyMapsToItsGrpcStatusInATrailersOnly200() {
        int[][] cases = {{404, 12}, {503, 14}, {504, 14}, {502, 14}, {429, 14}, {400, 13}, {401, 16}, {403, 7},
                {500, 2}, {408, 2}, {507, 2}};
        for (int[] c : cases) {
            NettyHeaderMap h = new NettyHeaderMap();
            boolean body = LocalReplies.prepare(h, c[0], "no healthy upstream", null, true, false);
            assertThat(body).as("trailers-only: no body").isFalse();
            assertThat(h.get(HeaderMap.STATUS)).isEqualTo("200");
            assertThat(h.get("content-type")).isEqualTo("application/grpc");
            assertThat(h.get("grpc-status")).as("HTTP %d", c[0]).isEqualTo(Integer.toString(c[1]));
            assertThat(h.get("grpc-message")).isEqualTo("no healthy upstream");
            assertThat(h.contains("content-length")).isFalse();
        }
    }

    @Test
    void anExplicitGrpcStatusWinsAndTheMessageIsPercentEncoded() {
        NettyHeaderMap h = new NettyHeaderMap();
        LocalReplies.prepare(h, 504, "downstream duration timeout: 100%", r -> {
            r.set("grpc-status", "4");
            r.set("content-length", "12");
        }, true, false);
        assertThat(h.get("grpc-status")).isEqualTo("4");
        assertThat(h.get("grpc-message")).isEqualTo("downstream duration timeout: 100%25");
        assertThat(h.contains("content-length")).isFalse();
    }

    @Test
    void emptyBodyOrHeadGivesNoGrpcMessage() {
        NettyHeaderMap empty = new NettyHeaderMap();
        LocalReplies.prepare(empty, 404, "", null, true, false);
        assertThat(empty.get("grpc-status")).isEqualTo("12");
        assertThat(empty.contains("grpc-message")).isFalse();

        NettyHeaderMap head = new NettyHeaderMap();
        LocalReplies.prepare(head, 503, "no healthy upstream", null, true, true);
        assertThat(head.contains("grpc-message")).isFalse();
    }

    @Test
    void plainRepliesKeepTheirStatusAndTextBody() {
        NettyHeaderMap h = new NettyHeaderMap();
        assertThat(LocalReplies.prepare(h, 503, "no healthy upstream", null, false, false)).isTrue();
        assertThat(h.get(HeaderMap.STATUS)).isEqualTo("503");
        assertThat(h.get("content-type")).isEqualTo("text/plain");
        assertThat(h.get("content-length")).isEqualTo("19");
        assertThat(h.contains("grpc-status")).isFalse();
    }

    @Test
    void aGrpcStatusSetByTheCallerIsDroppedFromAPlainReply() {
        // e.g. the router's max_stream_duration answer to a request a bridge upgraded from x-protobuf: the router
        // saw application/grpc, the request arrived as plain HTTP
        NettyHeaderMap h = new NettyHeaderMap();
        assertThat(LocalReplies.prepare(h, 504, "downstream duration timeout", r -> {
            r.set("grpc-status", "4");
            r.set("grpc-message", "x");
            r.set("x-kept", "yes");
        }, false, false)).isTrue();
        assertThat(h.get(HeaderMap.STATUS)).isEqualTo("504");
        assertThat(h.get("content-type")).isEqualTo("text/plain");
        assertThat(h.contains("grpc-status")).isFalse();
        assertThat(h.contains("grpc-message")).isFalse();
        assertThat(h.get("x-kept")).isEqualTo("yes");
    }

    @Test
    void aGrpcContentTypeSetByTheCallerBecomesTextPlainOnAPlainReply() {
        NettyHeaderMap h = new NettyHeaderMap();
        LocalReplies.prepare(h, 503, "no healthy upstream", r -> r.set("content-type", "application/grpc+proto"),
                false, false);
        assertThat(h.get("content-type")).isEqualTo("text/plain");
        NettyHeaderMap json = new NettyHeaderMap();
        LocalReplies.prepare(json, 503, "{}", r -> r.set("content-type", "application/json"), false, false);
        assertThat(json.get("content-type")).isEqualTo("application/json");
    }
}
