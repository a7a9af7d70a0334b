package dev.legate.api.http;

import dev.legate.api.StreamInfo;

/** A route answered without an upstream: Envoy's {@code direct_response} or {@code redirect}. */
public interface DirectResponseEntry {

    /** The status: {@code direct_response.status}, or the redirect's code (301 by default). */
    int responseCode();

    /** The body of a direct response, or {@code ""}. */
    String responseBody();

    /**
     * The {@code location} header for this request: the redirect's target for a redirect; for a
     * {@code direct_response} with status 201 or 3xx, the request's own URL (Envoy adds one then);
     * otherwise {@code null}.
     */
    String newLocation(HeaderMap requestHeaders);

    /** Applies the route's, virtual host's and route configuration's response header rules. */
    void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo);
}
