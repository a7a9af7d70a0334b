package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.HeaderMap;
import dev.legate.host.http.NettyHeaderMap;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Legate's header map to and from HTTP/2 header blocks, as Envoy's HTTP/2 client codec. */
class Http2HeaderConversionTest {

    private static List<String> entries(Http2Headers h) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            out.add(e.getKey() + "=" + e.getValue());
        }
        return out;
    }

    @Test
    void requestPseudoHeadersComeFirstAndConnectionHeadersAreDropped() {
        HeaderMap h = new NettyHeaderMap();
        h.set(HeaderMap.METHOD, "POST").set(HeaderMap.PATH, "/p?q").set(HeaderMap.AUTHORITY, "a.example");
        h.add("x-a", "1").add("x-a", "2").add("connection", "keep-alive, x-b").add("keep-alive", "timeout=5")
                .add("proxy-connection", "keep-alive").add("transfer-encoding", "chunked").add("te", "trailers")
                .add("content-type", "application/grpc");
        Http2HeaderConversion.Request r = Http2HeaderConversion.toHttp2Request(h);
        assertThat(r.upgradeProtocol()).isNull();
        assertThat(entries(r.headers())).containsExactly(":method=POST", ":scheme=http", ":authority=a.example",
                ":path=/p?q", "x-a=1", "x-a=2", "te=trailers", "content-type=application/grpc");
    }

    @Test
    void schemeHostAndTeFallbacks() {
        HeaderMap h = new NettyHeaderMap();
        h.set(HeaderMap.METHOD, "GET").set(HeaderMap.PATH, "/").set(HeaderMap.SCHEME, "https")
                .add("host", "h.example").add("te", "gzip, trailers");
        assertThat(entries(Http2HeaderConversion.toHttp2Request(h).headers()))
                .containsExactly(":method=GET", ":scheme=https", ":authority=h.example", ":path=/");
    }

    @Test
    void plainConnectCarriesOnlyMethodAndAuthority() {
        HeaderMap h = new NettyHeaderMap();
        h.set(HeaderMap.METHOD, "CONNECT").set(HeaderMap.AUTHORITY, "db:5432");
        assertThat(entries(Http2HeaderConversion.toHttp2Request(h).headers()))
                .containsExactly(":method=CONNECT", ":authority=db:5432");
    }

    @Test
    void upgradeBecomesExtendedConnectButH2cDoesNot() {
        HeaderMap h = new NettyHeaderMap();
        h.set(HeaderMap.METHOD, "GET").set(HeaderMap.PATH, "/chat").set(HeaderMap.AUTHORITY, "w")
                .add("upgrade", "WebSocket").add("connection", "keep-alive, Upgrade").add("content-length", "0")
                .add("sec-websocket-key", "k");
        Http2HeaderConversion.Request r = Http2HeaderConversion.toHttp2Request(h);
        assertThat(r.upgradeProtocol()).isEqualTo("websocket");
        assertThat(entries(r.headers())).containsExactly(":method=CONNECT", ":scheme=http", ":authority=w",
                ":path=/chat", ":protocol=websocket", "sec-websocket-key=k");

        HeaderMap h2c = new NettyHeaderMap();
        h2c.set(HeaderMap.METHOD, "GET").set(HeaderMap.PATH, "/").add("upgrade", "h2c").add("connection", "upgrade");
        assertThat(Http2HeaderConversion.toHttp2Request(h2c).upgradeProtocol()).isNull();
        assertThat(Http2HeaderConversion.toHttp2Request(h2c).headers().method().toString()).isEqualTo("GET");
    }

    @Test
    void responsesKeepStatusAndOnlyAnUpgraded200Becomes101() {
        Http2Headers wire = new DefaultHttp2Headers().status("200").add("x-r", "1").add("grpc-status", "0");
        HeaderMap m = Http2HeaderConversion.toHeaderMap(wire, null);
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.get("x-r")).isEqualTo("1");
        assertThat(m.size()).isEqualTo(3);

        HeaderMap up = Http2HeaderConversion.toHeaderMap(new DefaultHttp2Headers().status("200"), "websocket");
        assertThat(up.status()).isEqualTo(101);
        assertThat(up.get("upgrade")).isEqualTo("websocket");
        assertThat(up.get("connection")).isEqualTo("upgrade");

        HeaderMap refused = Http2HeaderConversion.toHeaderMap(new DefaultHttp2Headers().status("403"), "websocket");
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.contains("upgrade")).isFalse();

        HeaderMap trailers = Http2HeaderConversion.toHeaderMap(new DefaultHttp2Headers().add("grpc-status", "0"), null);
        assertThat(trailers.contains(HeaderMap.STATUS)).isFalse();
        assertThat(trailers.get("grpc-status")).isEqualTo("0");
    }
}
