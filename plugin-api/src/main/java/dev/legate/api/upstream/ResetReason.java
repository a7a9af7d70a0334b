package dev.legate.api.upstream;

/**
 * Why an upstream stream ended early, with the text Envoy prints after {@code reset reason: }
 * ({@code Http::Utility::resetReasonToString}).
 */
public enum ResetReason {
    LOCAL_CONNECTION_FAILURE("local connection failure"),
    REMOTE_CONNECTION_FAILURE("remote connection failure"),
    CONNECTION_TIMEOUT("connection timeout"),
    CONNECTION_TERMINATION("connection termination"),
    LOCAL_RESET("local reset"),
    OVERFLOW("overflow"),
    REMOTE_RESET("remote reset"),
    /** The peer refused the stream (HTTP/2 {@code RST_STREAM REFUSED_STREAM}, or above a GOAWAY's last stream id). */
    REMOTE_REFUSED_STREAM_RESET("remote refused stream reset"),
    PROTOCOL_ERROR("protocol error");

    private final String text;

    ResetReason(String text) {
        this.text = text;
    }

    /** Envoy's text, e.g. {@code remote connection failure}. */
    public String text() {
        return text;
    }
}
