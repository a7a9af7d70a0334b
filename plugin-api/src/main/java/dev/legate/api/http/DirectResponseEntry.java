package dev.legate.api.http;

import dev.legate.api.StreamInfo;

/** A route answered without an upstream: Envoy's {@code direct_response} or {@code redirect}. */
public interface DirectResponseEntry {

    /** The status: {@code direct_response.status}, or the redirect's code (301 by default). */
    int responseCode();

    /** The body of a direct response, or {@code ""}. */
    String responseBody();

    /** For a redirect, the {@code location} for this request; {@code null} for a direct response. */
    String newLocation(HeaderMap requestHeaders);

    /** Applies the route's, virtual host's and route configuration's response header rules. */
    void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo);
}
