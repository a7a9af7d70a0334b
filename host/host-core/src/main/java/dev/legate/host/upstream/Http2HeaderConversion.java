package dev.legate.host.upstream;

import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpUpgrades;
import dev.legate.host.http.NettyHeaderMap;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.Locale;
import java.util.Map;

/**
 * Converts Legate's pseudo-header {@link HeaderMap} to and from Netty's {@link Http2Headers} for the upstream
 * HTTP/2 codec, as Envoy's HTTP/2 client codec and {@code Http::Utility} do (source/common/http/http2/codec_impl.cc,
 * source/common/http/utility.cc). Stateless; any thread.
 */
final class Http2HeaderConversion {

    private Http2HeaderConversion() {
    }

    /** The request head as sent, and the upgrade protocol it asked for via extended CONNECT (or {@code null}). */
    record Request(Http2Headers headers, String upgradeProtocol) {
    }

    /**
     * The HTTP/2 request head for {@code h}: {@code :method}, {@code :scheme} ({@code http} when absent: the
     * upstream is cleartext), {@code :authority} ({@code host} when there is no {@code :authority}) and
     * {@code :path}, then the regular headers without the HTTP/1 connection-specific ones.
     *
     * <p>An HTTP/1 upgrade request ({@code connection: upgrade} and {@code upgrade: <proto>}, not {@code h2c})
     * becomes an extended CONNECT (RFC 8441): {@code :method CONNECT}, {@code :protocol <proto>}, as Envoy's
     * {@code Utility::transformUpgradeRequestFromH1toH2}. A plain CONNECT carries only {@code :method} and
     * {@code :authority}.
     */
    static Request toHttp2Request(HeaderMap h) {
        Http2Headers out = new DefaultHttp2Headers(false);
        String method = h.get(HeaderMap.METHOD);
        if (method == null) {
            method = "GET";
        }
        String authority = h.get(HeaderMap.AUTHORITY);
        if (authority == null) {
            authority = h.get("host");
        }
        String upgrade = upgradeProtocol(h);
        boolean connect = "CONNECT".equals(method) && upgrade == null;
        out.method(upgrade != null ? "CONNECT" : method);
        if (!connect) {
            String scheme = h.get(HeaderMap.SCHEME);
            out.scheme(scheme == null ? "http" : scheme);
        }
        if (authority != null) {
            out.authority(authority);
        }
        if (!connect) {
            String path = h.get(HeaderMap.PATH);
            out.path(path == null ? "/" : path);
        }
        if (upgrade != null) {
            out.set(Http2Headers.PseudoHeaderName.PROTOCOL.value(), upgrade);
        }
        for (Map.Entry<String, String> e : h) {
            String name = e.getKey();
            if (name.isEmpty() || name.charAt(0) == ':') {
                continue;
            }
            name = lower(name);
            if (HttpUpgrades.isConnectionSpecific(name, e.getValue()) || name.equals("host")) {
                continue; // RFC 9113 §8.2.2; host is carried by :authority
            }
            if (upgrade != null && name.equals("content-length") && e.getValue().trim().equals("0")) {
                continue; // Envoy strips it: HTTP/2 peers reject an extended CONNECT with a content-length
            }
            out.add(name, e.getValue());
        }
        return new Request(out, upgrade);
    }

    /**
     * Request trailers for HTTP/2: the regular fields of {@code trailers}, lower-cased, without pseudo-headers and
     * without the HTTP/1 connection-specific ones (RFC 9113 §8.2.2); empty when none is left, which the caller
     * sends as an empty DATA frame with END_STREAM, as Envoy's HTTP/2 codec does.
     */
    static Http2Headers toHttp2Trailers(HeaderMap trailers) {
        Http2Headers out = new DefaultHttp2Headers(false);
        for (Map.Entry<String, String> e : trailers) {
            String name = e.getKey();
            if (name.isEmpty() || name.charAt(0) == ':') {
                continue;
            }
            name = lower(name);
            if (HttpUpgrades.isConnectionSpecific(name, "") || name.equals("host")) {
                continue;
            }
            out.add(name, e.getValue());
        }
        return out;
    }

    /**
     * The protocol of an HTTP/1 upgrade request (Envoy's {@code Utility::isUpgrade}), lower-cased; {@code null}
     * when the request is no upgrade or asks for {@code h2c} (never forwarded).
     */
    static String upgradeProtocol(HeaderMap h) {
        return HttpUpgrades.isUpgrade(h) ? HttpUpgrades.upgradeType(h) : null;
    }

    /**
     * A response head or trailers as Legate's header map: {@code :status} (responses), then the regular
     * headers in wire order; other pseudo-headers are dropped. When {@code upgradeProtocol} is set and the
     * status is 200, the answer becomes {@code 101} with {@code upgrade} and {@code connection: upgrade}
     * (Envoy's {@code Utility::transformUpgradeResponseFromH2toH1}).
     *
     * @throws IllegalArgumentException when a name or value is not valid in Legate's map (the caller resets
     *                                  the stream as a protocol error)
     */
    static HeaderMap toHeaderMap(Http2Headers h, String upgradeProtocol) {
        NettyHeaderMap out = new NettyHeaderMap();
        CharSequence status = h.status();
        boolean upgraded = upgradeProtocol != null && status != null && "200".contentEquals(status);
        if (status != null) {
            out.set(HeaderMap.STATUS, upgraded ? "101" : status.toString());
        }
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            out.add(name, e.getValue().toString());
        }
        if (upgraded) {
            out.set("upgrade", upgradeProtocol);
            out.set("connection", "upgrade");
        }
        return out;
    }

    private static String lower(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return name.toLowerCase(Locale.ROOT);
            }
        }
        return name;
    }
}
