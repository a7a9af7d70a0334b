package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.http.RetryPolicy;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Compiles Envoy's {@code config.route.v3.RetryPolicy} into the SPI's {@link RetryPolicy}: {@code retry_on}
 * split on commas, {@code num_retries} (default 1), {@code per_try_timeout}, {@code retriable_status_codes},
 * {@code retry_back_off} (base 25 ms, max 10 × base). Stateless.
 */
final class Retries {

    private static final Set<String> RETRY_ON = Set.of("5xx", "gateway-error", "reset", "reset-before-request",
            "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes",
            "retriable-headers", "http3-post-connect-failure", "cancelled", "deadline-exceeded", "internal",
            "resource-exhausted", "unavailable");

    private Retries() {
    }

    static RetryPolicy compile(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String path) {
        ConfigFields.check(p, path, Set.of("retry_on", "num_retries", "per_try_timeout", "retriable_status_codes",
                "retry_back_off"), Set.of("retry_host_predicate", "host_selection_retry_max_attempts"));
        Set<String> retryOn = new LinkedHashSet<>();
        for (String s : p.getRetryOn().split(",")) {
            String v = s.trim();
            if (v.isEmpty()) {
                continue;
            }
            if (!RETRY_ON.contains(v)) {
                throw ConfigException.at(path + ".retry_on", ConfigFields.quote(v)
                        + " (expected: one of 5xx, gateway-error, reset, connect-failure, retriable-4xx, "
                        + "refused-stream, retriable-status-codes, ...)");
            }
            retryOn.add(v);
        }
        int numRetries = p.hasNumRetries() ? p.getNumRetries().getValue() : 1;
        if (numRetries < 0) {
            throw ConfigException.at(path + ".num_retries", Integer.toUnsignedString(numRetries) + " (expected: < 2^31)");
        }
        long perTry = p.hasPerTryTimeout() ? ConfigFields.millis(p.getPerTryTimeout(), path + ".per_try_timeout") : 0;
        Set<Integer> codes = new LinkedHashSet<>();
        for (int i = 0; i < p.getRetriableStatusCodesCount(); i++) {
            int c = p.getRetriableStatusCodes(i);
            if (c < 100 || c > 599) {
                throw ConfigException.at(path + ".retriable_status_codes[" + i + "]", c + " (expected: 100..599)");
            }
            codes.add(c);
        }
        long base = 25;
        long max = 250;
        if (p.hasRetryBackOff()) {
            var b = p.getRetryBackOff();
            String bp = path + ".retry_back_off";
            if (!b.hasBaseInterval()) {
                throw ConfigException.at(bp + ".base_interval", "missing (expected: > 0)");
            }
            base = ConfigFields.millis(b.getBaseInterval(), bp + ".base_interval");
            if (base <= 0) {
                throw ConfigException.at(bp + ".base_interval", "0s (expected: > 0)");
            }
            max = b.hasMaxInterval() ? ConfigFields.millis(b.getMaxInterval(), bp + ".max_interval") : 10 * base;
            if (max < base) {
                throw ConfigException.at(bp + ".max_interval", max + "ms (expected: >= base_interval, " + base + "ms)");
            }
        }
        return new RetryPolicy(retryOn, numRetries, perTry, codes, base, max);
    }
}
