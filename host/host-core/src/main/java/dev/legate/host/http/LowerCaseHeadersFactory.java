package dev.legate.host.http;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;

/**
 * Headers whose names are stored lower-case, as Envoy stores every header key (HTTP/1.1 keys are emitted
 * lower-case unless {@code header_key_format} says otherwise). Given to Netty's HTTP decoders — downstream
 * requests and upstream responses, headers and trailers — so names are normalized once, where they are
 * parsed, and every {@link NettyHeaderMap} sees lower-case names. A name that is already lower-case (the usual
 * case) is stored as is, without a copy. Netty's own name and value validation is kept.
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

    @Override
    public HttpHeaders newEmptyHeaders() {
        return new LowerCaseHeaders(names, values);
    }

    /** {@code name} in lower case; the same object when it has no upper-case ASCII letter. */
    static CharSequence lower(CharSequence name) {
        for (int i = 0, n = name.length(); i < n; i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return AsciiString.of(name).toLowerCase();
            }
        }
        return name;
    }

    private static final class LowerCaseHeaders extends DefaultHttpHeaders {
        LowerCaseHeaders(DefaultHeaders.NameValidator<CharSequence> names,
                         DefaultHeaders.ValueValidator<CharSequence> values) {
            super(names, values);
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
