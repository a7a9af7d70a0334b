package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A script's {@code httpCall(cluster, headers, body, timeout_ms)}: an HTTP request to a configured cluster.
 *
 * @param cluster   the cluster's name; unknown is a script error
 * @param headers   request headers in order, with {@code :method}, {@code :path} and {@code :authority} (a name
 *                  may repeat); {@code :scheme} defaults to {@code http}
 * @param body      the body, or {@code null} for none
 * @param timeoutMs 0 = no timeout
 */
public record HttpCallRequest(String cluster, List<Map.Entry<String, String>> headers, byte[] body, long timeoutMs) {
    public HttpCallRequest {
        requireNonNull(cluster, "cluster");
        headers = List.copyOf(requireNonNull(headers, "headers"));
        if (timeoutMs < 0) {
            throw new IllegalArgumentException("timeoutMs: " + timeoutMs + " (expected: >= 0)");
        }
    }
}
