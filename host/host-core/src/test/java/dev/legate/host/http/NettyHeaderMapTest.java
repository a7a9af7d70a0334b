package dev.legate.host.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.HeaderMap;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NettyHeaderMapTest {

    @Test
    void requestBecomesPseudoHeadersAndWrapsTheNettyHeaders() {
        HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/p?q=1");
        req.headers().add("Host", "example.com:8080").add("X-Custom", "a").add("x-custom", "b");
        NettyHeaderMap m = NettyHeaderMap.ofRequest(req);

        assertThat(m.method()).isEqualTo("POST");
        assertThat(m.path()).isEqualTo("/p?q=1");
        assertThat(m.authority()).isEqualTo("example.com:8080");
        assertThat(m.contains("host")).isFalse();
        assertThat(req.headers().contains("host")).isFalse();
        assertThat(m.getAll("X-CUSTOM")).containsExactly("a", "b");

        m.set("x-added", "1");
        assertThat(req.headers().get("x-added")).as("wrapped, not copied").isEqualTo("1");

        List<String> names = new ArrayList<>();
        for (Map.Entry<String, String> e : m) {
            names.add(e.getKey());
        }
        assertThat(names).containsExactly(":method", ":path", ":authority", "x-custom", "x-custom", "x-added");
        assertThat(m.size()).isEqualTo(6);
        assertThat(m.byteSize()).isEqualTo(":method".length() + 4 + ":path".length() + 6 + ":authority".length()
                + 16 + 2 * ("x-custom".length() + 1) + "x-added".length() + 1);
    }

    @Test
    void setAddRemoveAreCaseInsensitiveAndLowerCase() {
        NettyHeaderMap m = new NettyHeaderMap();
        m.add("Content-Type", "text/plain");
        m.set(HeaderMap.STATUS, "404");
        m.add("Via", "a").add("via", "b");
        assertThat(m.status()).isEqualTo(404);
        assertThat(m.get("content-type")).isEqualTo("text/plain");
        List<String> seen = new ArrayList<>();
        m.forEach((k, v) -> seen.add(k + "=" + v));
        assertThat(seen).containsExactly(":status=404", "content-type=text/plain", "via=a", "via=b");
        assertThat(m.remove("VIA")).isTrue();
        assertThat(m.remove("via")).isFalse();
        assertThat(m.remove(":status")).isTrue();
        assertThat(m.status()).isZero();
        assertThat(m.getAll("missing")).isEmpty();
    }

    @Test
    void convertsBackToNettyMessages() {
        NettyHeaderMap m = new NettyHeaderMap();
        m.set(HeaderMap.METHOD, "PUT").set(HeaderMap.PATH, "/x").set(HeaderMap.AUTHORITY, "up:80")
                .set(HeaderMap.SCHEME, "http").set("x-a", "1");
        HttpRequest req = NettyHeaderMap.toNettyRequest(m);
        assertThat(req.method()).isEqualTo(HttpMethod.PUT);
        assertThat(req.uri()).isEqualTo("/x");
        assertThat(req.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        assertThat(req.headers().get("host")).isEqualTo("up:80");
        assertThat(req.headers().get("x-a")).isEqualTo("1");
        assertThat(req.headers().names()).noneMatch(n -> n.startsWith(":"));

        HttpResponse upstream = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CREATED);
        upstream.headers().set("Content-Length", "3");
        NettyHeaderMap resp = NettyHeaderMap.ofResponse(upstream);
        assertThat(resp.status()).isEqualTo(201);
        HttpResponse back = NettyHeaderMap.toNettyResponse(resp);
        assertThat(back.status().code()).isEqualTo(201);
        assertThat(back.headers().get("content-length")).isEqualTo("3");

        HttpHeaders trailers = new DefaultHttpHeaders().add("grpc-status", "0");
        NettyHeaderMap t = NettyHeaderMap.ofTrailers(trailers);
        assertThat(t.get("grpc-status")).isEqualTo("0");
        assertThat(NettyHeaderMap.toNettyHeaders(t).get("grpc-status")).isEqualTo("0");
    }
}
