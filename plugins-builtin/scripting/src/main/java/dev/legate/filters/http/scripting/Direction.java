package dev.legate.filters.http.scripting;

/** Which half of the stream a script call serves: Envoy's {@code envoy_on_request} or {@code envoy_on_response}. */
public enum Direction {
    /** Request path (decode): {@code envoy_on_request(request_handle)}. */
    REQUEST,
    /** Response path (encode): {@code envoy_on_response(response_handle)}. */
    RESPONSE
}
