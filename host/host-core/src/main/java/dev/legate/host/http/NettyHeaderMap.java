package dev.legate.host.http;

import dev.legate.api.http.HeaderMap;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.BiConsumer;

/**
 * {@link HeaderMap} over Netty's {@link HttpHeaders}: regular headers live in a (possibly wrapped, not
 * copied) {@code HttpHeaders}; pseudo-headers ({@code :method}, {@code :path}, {@code :authority},
 * {@code :scheme}, {@code :status}, ...) live in a small side list and are iterated first.
 *
 * <p>Names are case-insensitive; names added through this class are stored lower-case and iteration
 * yields lower-case names (names wrapped from the wire are lower-cased on the way out). Like Envoy's
 * {@code HeaderMapImpl} (source/common/http/header_map_impl.cc) the map is not thread-safe: it belongs to
 * its stream's event loop.
 *
 * <p>The static converters translate between this map and Netty HTTP/1.1 messages the way Envoy's HTTP/1
 * codec does (source/common/http/http1/codec_impl.cc): the request line becomes {@code :method}/{@code :path},
 * {@code Host} becomes {@code :authority} and back.
 */
public final class NettyHeaderMap implements HeaderMap {

    private final List<String> pseudoNames = new ArrayList<>(4);
    private final List<String> pseudoValues = new ArrayList<>(4);
    private final HttpHeaders headers;

    /** An empty map backed by a fresh, validating {@link DefaultHttpHeaders}. */
    public NettyHeaderMap() {
        this(new DefaultHttpHeaders());
    }

    private NettyHeaderMap(HttpHeaders headers) {
        this.headers = headers;
    }

    /**
     * Wraps a request: {@code :method} and {@code :path} from the request line, {@code :authority} from
     * {@code Host} (which is removed from {@code req.headers()}). The request's {@link HttpHeaders} object is
     * wrapped, not copied: later changes through this map are visible in {@code req.headers()}.
     */
    public static NettyHeaderMap ofRequest(HttpRequest req) {
        NettyHeaderMap m = new NettyHeaderMap(req.headers());
        m.setPseudo(METHOD, req.method().name());
        m.setPseudo(PATH, req.uri());
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (host != null) {
            m.setPseudo(AUTHORITY, host);
            req.headers().remove(HttpHeaderNames.HOST);
        }
        return m;
    }

    /** Wraps a response: {@code :status} from the status line plus its headers (wrapped, not copied). */
    public static NettyHeaderMap ofResponse(HttpResponse resp) {
        NettyHeaderMap m = new NettyHeaderMap(resp.headers());
        m.setPseudo(STATUS, Integer.toString(resp.status().code()));
        return m;
    }

    /** Wraps trailers (no pseudo-headers); the object is wrapped, not copied. */
    public static NettyHeaderMap ofTrailers(HttpHeaders trailers) {
        return new NettyHeaderMap(trailers);
    }

    /**
     * An HTTP/1.1 request head: request line from {@code :method} (default GET) and {@code :path} (default
     * "/"), {@code Host} from {@code :authority}; other pseudo-headers are not written. Regular headers are
     * copied into a new {@code HttpHeaders}.
     */
    public static HttpRequest toNettyRequest(HeaderMap h) {
        String method = h.get(METHOD);
        String path = h.get(PATH);
        HttpHeaders out = toNettyHeaders(h);
        String authority = h.get(AUTHORITY);
        if (authority != null) {
            out.set(HttpHeaderNames.HOST, authority);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(method == null ? "GET" : method), path == null ? "/" : path, out);
    }

    /** An HTTP/1.1 response head from {@code :status} (default 200) and the regular headers (copied). */
    public static HttpResponse toNettyResponse(HeaderMap h) {
        int status = h.status();
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status == 0 ? 200 : status), toNettyHeaders(h));
    }

    /** The regular headers only (no pseudo-headers), copied into a new {@code HttpHeaders}; for trailers. */
    public static HttpHeaders toNettyHeaders(HeaderMap h) {
        HttpHeaders out = new DefaultHttpHeaders();
        if (h instanceof NettyHeaderMap n) {
            out.add(n.headers);
            return out;
        }
        h.forEach((k, v) -> {
            if (!k.startsWith(":")) {
                out.add(k, v);
            }
        });
        return out;
    }

    /**
     * An HTTP/1.1 request head over {@code h}'s own header object, without copying it: request line from
     * {@code :method}/{@code :path}, and {@code Host} set from {@code :authority} in that object. The caller
     * encodes it at once on the stream's event loop and removes {@code Host} again (the upstream HTTP/1.1
     * codec does this per request).
     */
    public static HttpRequest wrapAsNettyRequest(NettyHeaderMap h) {
        String method = h.get(METHOD);
        String path = h.get(PATH);
        String authority = h.get(AUTHORITY);
        if (authority != null) {
            h.headers.set(HttpHeaderNames.HOST, authority);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(method == null ? "GET" : method), path == null ? "/" : path, h.headers);
    }

    /** The backing Netty headers (regular headers only); host-internal. */
    public HttpHeaders nettyHeaders() {
        return headers;
    }

    private static boolean isPseudo(CharSequence name) {
        return name.length() > 0 && name.charAt(0) == ':';
    }

    private static String lower(CharSequence name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return name.toString().toLowerCase(Locale.ROOT);
            }
        }
        return name.toString();
    }

    private int pseudoIndex(CharSequence name) {
        for (int i = 0; i < pseudoNames.size(); i++) {
            if (pseudoNames.get(i).contentEquals(name) || pseudoNames.get(i).equalsIgnoreCase(name.toString())) {
                return i;
            }
        }
        return -1;
    }

    private void setPseudo(String name, String value) {
        int i = pseudoIndex(name);
        if (i >= 0) {
            pseudoValues.set(i, value);
        } else {
            pseudoNames.add(name);
            pseudoValues.add(value);
        }
    }

    // HeaderMap

    @Override
    public String get(CharSequence name) {
        if (isPseudo(name)) {
            int i = pseudoIndex(name);
            return i < 0 ? null : pseudoValues.get(i);
        }
        return headers.get(name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        if (isPseudo(name)) {
            List<String> out = new ArrayList<>(1);
            for (int i = 0; i < pseudoNames.size(); i++) {
                if (pseudoNames.get(i).equalsIgnoreCase(name.toString())) {
                    out.add(pseudoValues.get(i));
                }
            }
            return out;
        }
        return headers.getAll(name);
    }

    @Override
    public boolean contains(CharSequence name) {
        if (isPseudo(name)) {
            return pseudoIndex(name) >= 0;
        }
        return headers.contains(name);
    }

    @Override
    public HeaderMap add(CharSequence name, String value) {
        if (isPseudo(name)) {
            pseudoNames.add(lower(name));
            pseudoValues.add(value);
        } else {
            headers.add(lower(name), value);
        }
        return this;
    }

    @Override
    public HeaderMap set(CharSequence name, String value) {
        if (isPseudo(name)) {
            remove(name);
            pseudoNames.add(lower(name));
            pseudoValues.add(value);
        } else {
            headers.set(lower(name), value);
        }
        return this;
    }

    @Override
    public boolean remove(CharSequence name) {
        if (isPseudo(name)) {
            boolean any = false;
            for (int i = pseudoNames.size() - 1; i >= 0; i--) {
                if (pseudoNames.get(i).equalsIgnoreCase(name.toString())) {
                    pseudoNames.remove(i);
                    pseudoValues.remove(i);
                    any = true;
                }
            }
            return any;
        }
        if (!headers.contains(name)) {
            return false;
        }
        headers.remove(name);
        return true;
    }

    @Override
    public int size() {
        return pseudoNames.size() + headers.size();
    }

    @Override
    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < pseudoNames.size(); i++) {
            action.accept(pseudoNames.get(i), pseudoValues.get(i));
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            action.accept(lower(e.getKey()), e.getValue().toString());
        }
    }

    @Override
    public long byteSize() {
        long n = 0;
        for (int i = 0; i < pseudoNames.size(); i++) {
            n += pseudoNames.get(i).length() + pseudoValues.get(i).length();
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            n += e.getKey().length() + e.getValue().length();
        }
        return n;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        final Iterator<Map.Entry<CharSequence, CharSequence>> regular = headers.iteratorCharSequence();
        return new Iterator<>() {
            private int pseudo;

            @Override
            public boolean hasNext() {
                return pseudo < pseudoNames.size() || regular.hasNext();
            }

            @Override
            public Map.Entry<String, String> next() {
                if (pseudo < pseudoNames.size()) {
                    int i = pseudo++;
                    return new AbstractMap.SimpleImmutableEntry<>(pseudoNames.get(i), pseudoValues.get(i));
                }
                if (!regular.hasNext()) {
                    throw new NoSuchElementException();
                }
                Map.Entry<CharSequence, CharSequence> e = regular.next();
                return new AbstractMap.SimpleImmutableEntry<>(lower(e.getKey()), e.getValue().toString());
            }
        };
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NettyHeaderMap{");
        forEach((k, v) -> sb.append(k).append('=').append(v).append(", "));
        return sb.append('}').toString();
    }
}
