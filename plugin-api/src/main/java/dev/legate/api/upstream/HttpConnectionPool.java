package dev.legate.api.upstream;

import dev.legate.api.Cancellable;

/**
 * One event loop's HTTP connections to one host (Envoy's {@code Http::ConnectionPool::Instance}). Confined to
 * that loop: every method and callback runs there.
 */
public interface HttpConnectionPool {

    /**
     * Asks for a stream: on an idle keep-alive connection at once (HTTP/2: on a connection below its
     * {@code max_concurrent_streams}), otherwise on a new connection (bounded by {@code connect_timeout} and the
     * cluster's {@code max_connections} / {@code max_pending_requests}).
     *
     * @param responseHandler gets the response of the stream once it exists
     * @param callbacks       told when the stream is ready or failed; exactly one of them is called, unless
     *                        the returned handle is cancelled first
     */
    Cancellable newStream(UpstreamResponseHandler responseHandler, PoolCallbacks callbacks);

    /** Outcome of {@link #newStream}. */
    interface PoolCallbacks {
        /** The stream is ready for the request's headers. */
        void onPoolReady(UpstreamHttpStream stream, Host host);

        /**
         * No stream: the connection failed or the pool overflowed.
         *
         * @param reason            {@link ResetReason#OVERFLOW} when a circuit breaker refused
         * @param transportFailure  detail for logs and the 503 body, or {@code ""}
         */
        void onPoolFailure(ResetReason reason, String transportFailure, Host host);
    }
}
