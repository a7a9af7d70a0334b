package dev.legate.host.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Status lines as Envoy writes them ({@code Http::CodeUtility::toString}): Netty's reason phrase where the two
 * agree, Envoy's where they differ (413 {@code Payload Too Large}, 414 {@code URI Too Long}, 416
 * {@code Range Not Satisfiable}, 425 {@code Too Early}) and {@code Unknown} for codes neither names. Every
 * status from 100 to 599 is built once; lookups allocate nothing.
 */
final class StatusLines {

    private static final HttpResponseStatus[] STATUSES = new HttpResponseStatus[600];

    static {
        for (int code = 100; code < 600; code++) {
            HttpResponseStatus netty = HttpResponseStatus.valueOf(code);
            String phrase = switch (code) {
                case 413 -> "Payload Too Large";
                case 414 -> "URI Too Long";
                case 416 -> "Range Not Satisfiable";
                case 425 -> "Too Early";
                default -> netty.reasonPhrase().startsWith("Unknown") ? "Unknown" : netty.reasonPhrase();
            };
            STATUSES[code] = phrase.equals(netty.reasonPhrase()) ? netty : new HttpResponseStatus(code, phrase);
        }
    }

    private StatusLines() {
    }

    /** The status for {@code code}; codes outside 100..599 get {@code Unknown}. */
    static HttpResponseStatus of(int code) {
        return code >= 100 && code < 600 ? STATUSES[code] : new HttpResponseStatus(code, "Unknown");
    }
}
