package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * The response to an {@link HttpCallRequest}. A transport failure is not an error for the script: as in Envoy it is
 * a synthesized {@code 503} with body {@code upstream failure}; a timeout is Envoy's router answer, {@code 504}
 * with body {@code upstream request timeout}.
 *
 * @param status  the {@code :status}
 * @param headers response headers in order, {@code :status} first
 * @param body    the body, or {@code null} when the response had none
 */
public record HttpCallResult(int status, List<Map.Entry<String, String>> headers, byte[] body) {
    public HttpCallResult {
        headers = List.copyOf(requireNonNull(headers, "headers"));
    }

    /** A synthesized response with {@code :status} and a text body. */
    static HttpCallResult local(int status, String body) {
        return new HttpCallResult(status, List.of(Map.entry(":status", Integer.toString(status))),
                body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
