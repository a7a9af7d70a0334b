package dev.legate.api;

/**
 * Envoy's response flags, as printed by {@code %RESPONSE_FLAGS%} in access logs
 * ({@code envoy/stream_info/stream_info.h}). Several may be set on one stream; they print joined by commas
 * in declaration order, or {@code -} when none is set.
 */
public enum ResponseFlag {
    FAILED_LOCAL_HEALTH_CHECK("LH"),
    NO_HEALTHY_UPSTREAM("UH"),
    UPSTREAM_REQUEST_TIMEOUT("UT"),
    LOCAL_RESET("LR"),
    UPSTREAM_REMOTE_RESET("UR"),
    UPSTREAM_CONNECTION_FAILURE("UF"),
    UPSTREAM_CONNECTION_TERMINATION("UC"),
    UPSTREAM_OVERFLOW("UO"),
    NO_ROUTE_FOUND("NR"),
    DELAY_INJECTED("DI"),
    FAULT_INJECTED("FI"),
    RATE_LIMITED("RL"),
    STREAM_IDLE_TIMEOUT("SI"),
    UPSTREAM_RETRY_LIMIT_EXCEEDED("URX"),
    NO_CLUSTER_FOUND("NC"),
    DURATION_TIMEOUT("DT"),
    DOWNSTREAM_CONNECTION_TERMINATION("DC"),
    DOWNSTREAM_PROTOCOL_ERROR("DPE"),
    UPSTREAM_PROTOCOL_ERROR("UPE");

    private final String code;

    ResponseFlag(String code) {
        this.code = code;
    }

    /** The short code Envoy prints, e.g. {@code UH}. */
    public String code() {
        return code;
    }
}
