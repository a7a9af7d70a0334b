package dev.legate.api.http;

import java.util.Set;

/**
 * A route's {@code retry_policy} (Envoy's {@code RetryPolicy}), possibly overridden per request by
 * {@code x-envoy-retry-on} and {@code x-envoy-max-retries}.
 *
 * @param retryOn               Envoy's conditions: {@code 5xx}, {@code gateway-error}, {@code connect-failure},
 *                              {@code reset}, {@code retriable-status-codes}, {@code refused-stream}, ...
 * @param numRetries            retries after the first try (Envoy's default 1 when a policy is set)
 * @param perTryTimeoutMillis   {@code per_try_timeout}, 0 when unset
 * @param retriableStatusCodes  for {@code retriable-status-codes}
 * @param baseIntervalMillis    back-off base, 25 ms by default
 * @param maxIntervalMillis     back-off cap, 10 × base by default
 */
public record RetryPolicy(Set<String> retryOn, int numRetries, long perTryTimeoutMillis,
                          Set<Integer> retriableStatusCodes, long baseIntervalMillis, long maxIntervalMillis) {

    /** No retries. */
    public static final RetryPolicy NONE = new RetryPolicy(Set.of(), 0, 0, Set.of(), 25, 250);

    public RetryPolicy {
        retryOn = Set.copyOf(retryOn);
        retriableStatusCodes = Set.copyOf(retriableStatusCodes);
    }
}
