package dev.legate.api.upstream;

/**
 * A cluster's circuit breakers for the default priority (Envoy's {@code ResourceManager}):
 * {@code max_connections}, {@code max_pending_requests}, {@code max_requests}, {@code max_retries}
 * (defaults 1024/1024/1024/3). Counts are shared by all workers, updated lock-free.
 */
public interface ResourceManager {

    /** Takes one request slot; {@code false} when {@code max_requests} is reached (then: 503 + overflow). */
    boolean tryAcquireRequest();

    void releaseRequest();

    /** Takes one retry slot; {@code false} when {@code max_retries} is reached. */
    boolean tryAcquireRetry();

    void releaseRetry();
}
