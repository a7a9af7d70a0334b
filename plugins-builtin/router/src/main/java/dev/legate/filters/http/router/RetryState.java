package dev.legate.filters.http.router;

import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.upstream.ResetReason;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry decisions of one request (Envoy's {@code RetryStateImpl}): the route's {@code retry_policy} merged
 * with the request's {@code x-envoy-retry-on}, {@code x-envoy-retry-grpc-on}, {@code x-envoy-max-retries} and
 * {@code x-envoy-retriable-status-codes}, and the fully jittered exponential back-off
 * ({@code JitteredExponentialBackOffStrategy}). Confined to the stream's event loop; made only when some
 * {@code retry_on} condition is set.
 */
final class RetryState {

    static final int RETRY_ON_5XX = 1;
    static final int RETRY_ON_GATEWAY_ERROR = 1 << 1;
    static final int RETRY_ON_CONNECT_FAILURE = 1 << 2;
    static final int RETRY_ON_RESET = 1 << 3;
    static final int RETRY_ON_RETRIABLE_STATUS_CODES = 1 << 4;
    static final int RETRY_ON_RETRIABLE_4XX = 1 << 5;
    static final int RETRY_ON_REFUSED_STREAM = 1 << 6;
    static final int RETRY_ON_ENVOY_RATE_LIMITED = 1 << 7;
    static final int RETRY_ON_RESET_BEFORE_REQUEST = 1 << 8;
    static final int RETRY_ON_GRPC_CANCELLED = 1 << 9;
    static final int RETRY_ON_GRPC_DEADLINE_EXCEEDED = 1 << 10;
    static final int RETRY_ON_GRPC_RESOURCE_EXHAUSTED = 1 << 11;
    static final int RETRY_ON_GRPC_UNAVAILABLE = 1 << 12;
    static final int RETRY_ON_GRPC_INTERNAL = 1 << 13;
    static final int RETRY_ON_GRPC = RETRY_ON_GRPC_CANCELLED | RETRY_ON_GRPC_DEADLINE_EXCEEDED
            | RETRY_ON_GRPC_RESOURCE_EXHAUSTED | RETRY_ON_GRPC_UNAVAILABLE | RETRY_ON_GRPC_INTERNAL;
    /** Known to Envoy but not run here (no HTTP/3, no header matchers): accepted, never fire. */
    static final int RETRY_ON_IGNORED = 1 << 30;

    private final int retryOn;
    private final Set<Integer> retriableStatusCodes;
    private final long baseIntervalMillis;
    private final long maxIntervalMillis;
    private int retriesRemaining;
    private int currentRetry = 1;

    RetryState(int retryOn, int numRetries, Set<Integer> retriableStatusCodes, long baseIntervalMillis,
               long maxIntervalMillis) {
        this.retryOn = retryOn;
        this.retriesRemaining = Math.max(0, numRetries);
        this.retriableStatusCodes = retriableStatusCodes;
        this.baseIntervalMillis = Math.max(1, baseIntervalMillis);
        this.maxIntervalMillis = Math.max(this.baseIntervalMillis, maxIntervalMillis);
    }

    /**
     * The retry state for a request, or {@code null} when no condition is set. Reads (does not remove) the
     * {@code x-envoy-*} retry headers.
     */
    static RetryState create(RetryPolicy policy, HeaderMap requestHeaders) {
        int retryOn = parseRetryOn(policy.retryOn());
        String header = requestHeaders.get(RouterFilter.X_ENVOY_RETRY_ON);
        if (header != null) {
            retryOn |= parseHeaderRetryOn(header);
        }
        String grpcHeader = requestHeaders.get(RouterFilter.X_ENVOY_RETRY_GRPC_ON);
        if (grpcHeader != null) {
            retryOn |= parseRetryGrpcOn(grpcHeader);
        }
        if (retryOn == 0) {
            return null;
        }
        int numRetries = policy.numRetries();
        if (policy.retryOn().isEmpty() && numRetries == 0) {
            numRetries = 1; // Envoy's default num_retries when only the header asks for retries
        }
        long maxRetries = parseUnsigned(requestHeaders.get(RouterFilter.X_ENVOY_MAX_RETRIES));
        if (maxRetries >= 0) {
            numRetries = (int) Math.min(Integer.MAX_VALUE, maxRetries);
        }
        Set<Integer> codes = policy.retriableStatusCodes();
        String codesHeader = requestHeaders.get(RouterFilter.X_ENVOY_RETRIABLE_STATUS_CODES);
        if (codesHeader != null) {
            Set<Integer> merged = new HashSet<>(codes);
            for (String token : codesHeader.split(",")) {
                long code = parseUnsigned(token.trim());
                if (code >= 100 && code < 600) {
                    merged.add((int) code);
                }
            }
            codes = merged;
        }
        return new RetryState(retryOn, numRetries, codes, policy.baseIntervalMillis(), policy.maxIntervalMillis());
    }

    /**
     * The bits of a comma-separated route {@code retry_on} list: HTTP and gRPC conditions (Envoy's
     * {@code RetryPolicyImpl} parses it with both {@code parseRetryOn} and {@code parseRetryGrpcOn}); unknown
     * tokens are ignored.
     */
    static int parseRetryOn(String commaSeparated) {
        int bits = 0;
        for (String token : commaSeparated.split(",")) {
            bits |= httpBit(token.trim()) | grpcBit(token.trim());
        }
        return bits;
    }

    static int parseRetryOn(Iterable<String> conditions) {
        int bits = 0;
        for (String condition : conditions) {
            bits |= parseRetryOn(condition);
        }
        return bits;
    }

    /** The bits of an {@code x-envoy-retry-on} value: HTTP conditions only (gRPC ones are ignored, as in Envoy). */
    static int parseHeaderRetryOn(String commaSeparated) {
        int bits = 0;
        for (String token : commaSeparated.split(",")) {
            bits |= httpBit(token.trim());
        }
        return bits;
    }

    /** The bits of an {@code x-envoy-retry-grpc-on} value: gRPC conditions only. */
    static int parseRetryGrpcOn(String commaSeparated) {
        int bits = 0;
        for (String token : commaSeparated.split(",")) {
            bits |= grpcBit(token.trim());
        }
        return bits;
    }

    /** Whether every token of an {@code x-envoy-retry-on} value is an HTTP condition Envoy knows. */
    static boolean isValidRetryOn(String commaSeparated) {
        for (String token : commaSeparated.split(",")) {
            if (httpBit(token.trim()) == 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether every token of an {@code x-envoy-retry-grpc-on} value is a gRPC condition Envoy knows. */
    static boolean isValidRetryGrpcOn(String commaSeparated) {
        for (String token : commaSeparated.split(",")) {
            if (grpcBit(token.trim()) == 0) {
                return false;
            }
        }
        return true;
    }

    private static int httpBit(String token) {
        return switch (token) {
            case "5xx" -> RETRY_ON_5XX;
            case "gateway-error" -> RETRY_ON_GATEWAY_ERROR;
            case "connect-failure" -> RETRY_ON_CONNECT_FAILURE;
            case "reset" -> RETRY_ON_RESET;
            case "reset-before-request" -> RETRY_ON_RESET_BEFORE_REQUEST;
            case "retriable-status-codes" -> RETRY_ON_RETRIABLE_STATUS_CODES;
            case "retriable-4xx" -> RETRY_ON_RETRIABLE_4XX;
            case "refused-stream" -> RETRY_ON_REFUSED_STREAM;
            case "envoy-ratelimited" -> RETRY_ON_ENVOY_RATE_LIMITED;
            case "retriable-headers", "http3-post-connect-failure" -> RETRY_ON_IGNORED;
            default -> 0;
        };
    }

    /** Envoy's {@code parseRetryGrpcOn} tokens. */
    private static int grpcBit(String token) {
        return switch (token) {
            case "cancelled" -> RETRY_ON_GRPC_CANCELLED;
            case "deadline-exceeded" -> RETRY_ON_GRPC_DEADLINE_EXCEEDED;
            case "resource-exhausted" -> RETRY_ON_GRPC_RESOURCE_EXHAUSTED;
            case "unavailable" -> RETRY_ON_GRPC_UNAVAILABLE;
            case "internal" -> RETRY_ON_GRPC_INTERNAL;
            default -> 0;
        };
    }

    /** A non-negative decimal, or -1 when {@code value} is null or not one (Envoy ignores such headers). */
    static long parseUnsigned(String value) {
        if (value == null) {
            return -1;
        }
        value = value.trim();
        if (value.isEmpty() || value.length() > 18) {
            return -1;
        }
        long result = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            result = result * 10 + (c - '0');
        }
        return result;
    }

    /** Whether retries may still be granted (before the circuit breaker is asked). */
    boolean hasRetriesRemaining() {
        return retriesRemaining > 0;
    }

    /** Takes one retry from the budget; {@code false} when none is left. */
    boolean takeRetry() {
        if (retriesRemaining == 0) {
            return false;
        }
        retriesRemaining--;
        return true;
    }

    /**
     * Envoy's {@code wouldRetryFromHeaders}: whether this response's status, or the {@code grpc-status} of its
     * headers, asks for a retry.
     */
    boolean wouldRetryFromHeaders(int status, HeaderMap responseHeaders) {
        if (responseHeaders.contains(RouterFilter.X_ENVOY_OVERLOADED)) {
            return false;
        }
        if (responseHeaders.contains("x-envoy-ratelimited")) {
            return (retryOn & RETRY_ON_ENVOY_RATE_LIMITED) != 0;
        }
        if ((retryOn & RETRY_ON_5XX) != 0 && status >= 500 && status < 600) {
            return true;
        }
        if ((retryOn & RETRY_ON_GATEWAY_ERROR) != 0 && status >= 502 && status <= 504) {
            return true;
        }
        if ((retryOn & RETRY_ON_RETRIABLE_4XX) != 0 && status == 409) {
            return true;
        }
        if ((retryOn & RETRY_ON_RETRIABLE_STATUS_CODES) != 0 && retriableStatusCodes.contains(status)) {
            return true;
        }
        if ((retryOn & RETRY_ON_GRPC) != 0) {
            // grpc-status in the response headers: a trailers-only response (Envoy does not look at trailers)
            int grpcStatus = GrpcCommon.grpcStatus(responseHeaders);
            return grpcStatus == 1 && (retryOn & RETRY_ON_GRPC_CANCELLED) != 0
                    || grpcStatus == 4 && (retryOn & RETRY_ON_GRPC_DEADLINE_EXCEEDED) != 0
                    || grpcStatus == 8 && (retryOn & RETRY_ON_GRPC_RESOURCE_EXHAUSTED) != 0
                    || grpcStatus == 14 && (retryOn & RETRY_ON_GRPC_UNAVAILABLE) != 0
                    || grpcStatus == 13 && (retryOn & RETRY_ON_GRPC_INTERNAL) != 0;
        }
        return false;
    }

    /**
     * Envoy's {@code wouldRetryFromReset}.
     *
     * @param requestStarted whether the request's headers reached the upstream stream
     */
    boolean wouldRetryFromReset(ResetReason reason, boolean requestStarted) {
        if (reason == ResetReason.OVERFLOW) {
            return false;
        }
        if ((retryOn & (RETRY_ON_5XX | RETRY_ON_GATEWAY_ERROR | RETRY_ON_RESET)) != 0) {
            return true;
        }
        if ((retryOn & RETRY_ON_REFUSED_STREAM) != 0 && reason == ResetReason.REMOTE_REFUSED_STREAM_RESET) {
            return true;
        }
        boolean connectFailure = reason == ResetReason.LOCAL_CONNECTION_FAILURE
                || reason == ResetReason.REMOTE_CONNECTION_FAILURE || reason == ResetReason.CONNECTION_TIMEOUT;
        if ((retryOn & RETRY_ON_CONNECT_FAILURE) != 0 && connectFailure) {
            return true;
        }
        return (retryOn & RETRY_ON_RESET_BEFORE_REQUEST) != 0 && (connectFailure || !requestStarted);
    }

    /** A per-try timeout is retried only under {@code 5xx} or {@code gateway-error} (Envoy). */
    boolean wouldRetryFromPerTryTimeout() {
        return (retryOn & (RETRY_ON_5XX | RETRY_ON_GATEWAY_ERROR)) != 0;
    }

    /**
     * The next back-off in milliseconds: uniform in {@code [0, base * (2^n - 1))} for the n-th retry, capped at
     * the maximum interval (Envoy's {@code JitteredExponentialBackOffStrategy::nextBackOffMs}).
     */
    long nextBackOffMillis() {
        long multiplier = (1L << Math.min(currentRetry, 40)) - 1;
        long base = multiplier * baseIntervalMillis;
        if (base <= maxIntervalMillis) {
            currentRetry++;
        }
        return Math.min(ThreadLocalRandom.current().nextLong(base), maxIntervalMillis);
    }
}
