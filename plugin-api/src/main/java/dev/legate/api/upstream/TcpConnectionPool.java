package dev.legate.api.upstream;

import dev.legate.api.Cancellable;

/** One event loop's raw TCP connections to one host; each connection serves one user (tcp_proxy). */
public interface TcpConnectionPool {

    /**
     * Opens a connection to the host. Exactly one of the callbacks' {@code onPoolReady}/{@code onPoolFailure}
     * runs, on the loop, unless cancelled first.
     */
    Cancellable newConnection(TcpUpstreamCallbacks callbacks);
}
