package dev.legate.host.http;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;

/**
 * Headers whose names are stored lower-case, as Envoy stores every header key (HTTP/1.1 keys are emitted
 * lower-case unless {@code header_key_format} says otherwise). Given to Netty's HTTP decoders — downstream
 * requests and upstream responses, headers and trailers — so names are normalized once, where they are
 * parsed, and every {@link NettyHeaderMap} sees lower-case names. A name that is already lower-case is stored
 * as is; a capitalized well-known name ({@code Content-Type}, as many servers and clients send) maps to Netty's
 * shared lower-case constant; only other names are copied. Netty's own name and value validation is kept.
 */
public final class LowerCaseHeadersFactory implements HttpHeadersFactory {

    /** For request and response headers. */
    public static final LowerCaseHeadersFactory HEADERS =
            new LowerCaseHeadersFactory(DefaultHttpHeadersFactory.headersFactory());

    /** For trailers (Netty validates trailer names differently). */
    public static final LowerCaseHeadersFactory TRAILERS =
            new LowerCaseHeadersFactory(DefaultHttpHeadersFactory.trailersFactory());

    private final DefaultHeaders.NameValidator<CharSequence> names;
    private final DefaultHeaders.ValueValidator<CharSequence> values;

    private LowerCaseHeadersFactory(DefaultHttpHeadersFactory base) {
        this.names = base.getNameValidator();
        this.values = base.getValueValidator();
    }

    @Override
    public HttpHeaders newHeaders() {
        return new LowerCaseHeaders(names, values);
    }

    /** Sized for a few entries, as Netty's own factory does: the decoder makes one per message for trailers. */
    @Override
    public HttpHeaders newEmptyHeaders() {
        return new LowerCaseHeaders(names, values, 2);
    }

    /** Well-known names by case-insensitive hash (open addressing), each Netty's lower-case constant. */
    private static final AsciiString[] KNOWN = new AsciiString[256];

    static {
        AsciiString[] names = {HttpHeaderNames.ACCEPT, HttpHeaderNames.ACCEPT_ENCODING,
            HttpHeaderNames.ACCEPT_LANGUAGE, HttpHeaderNames.ACCEPT_RANGES, HttpHeaderNames.AGE,
            HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.CONNECTION,
            HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.CONTENT_LANGUAGE, HttpHeaderNames.CONTENT_LENGTH,
            HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.COOKIE, HttpHeaderNames.DATE, HttpHeaderNames.ETAG,
            HttpHeaderNames.EXPECT, HttpHeaderNames.EXPIRES, HttpHeaderNames.HOST, HttpHeaderNames.IF_MATCH,
            HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.IF_NONE_MATCH, HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.LOCATION, HttpHeaderNames.ORIGIN, HttpHeaderNames.PRAGMA,
            HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.RANGE, HttpHeaderNames.REFERER,
            HttpHeaderNames.SERVER, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
            HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.USER_AGENT,
            HttpHeaderNames.VARY, HttpHeaderNames.VIA, HttpHeaderNames.WWW_AUTHENTICATE,
            AsciiString.cached("x-forwarded-for"), AsciiString.cached("x-forwarded-proto"),
            AsciiString.cached("x-request-id")};
        for (AsciiString n : names) {
            int i = AsciiString.hashCode(n) & (KNOWN.length - 1);
            while (KNOWN[i] != null) {
                i = (i + 1) & (KNOWN.length - 1);
            }
            KNOWN[i] = n;
        }
    }

    /** {@code name} in lower case: the same object when it has no upper-case ASCII letter. */
    static CharSequence lower(CharSequence name) {
        for (int i = 0, n = name.length(); i < n; i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return known(name);
            }
        }
        return name;
    }

    private static CharSequence known(CharSequence name) {
        for (int i = AsciiString.hashCode(name) & (KNOWN.length - 1); KNOWN[i] != null; i = (i + 1) & (KNOWN.length - 1)) {
            if (KNOWN[i].contentEqualsIgnoreCase(name)) {
                return KNOWN[i];
            }
        }
        return AsciiString.of(name).toLowerCase();
    }

    private static final class LowerCaseHeaders extends DefaultHttpHeaders {
        LowerCaseHeaders(DefaultHeaders.NameValidator<CharSequence> names,
                         DefaultHeaders.ValueValidator<CharSequence> values) {
            super(names, values);
        }

        LowerCaseHeaders(DefaultHeaders.NameValidator<CharSequence> names,
                         DefaultHeaders.ValueValidator<CharSequence> values, int sizeHint) {
            super(names, values, sizeHint);
        }

        @Override
        public HttpHeaders add(CharSequence name, Object value) {
            return super.add(lower(name), value);
        }

        @Override
        public HttpHeaders add(String name, Object value) {
            return super.add(lower(name), value);
        }

        @Override
        public HttpHeaders set(CharSequence name, Object value) {
            return super.set(lower(name), value);
        }

        @Override
        public HttpHeaders set(String name, Object value) {
            return super.set(lower(name), value);
        }
    }
}
