package dev.legate.api.http;

import dev.legate.api.network.NetworkFilterInstaller;

/**
 * The host's HTTP codecs and stream state machine, offered to the HTTP connection manager plugin through
 * {@link dev.legate.api.FactoryContext#http()} (DESIGN §2: one semantics for stop/continue/buffer in the
 * process, as Envoy's HCM sits on {@code source/common/http}).
 */
public interface HttpConnectionService {

    /**
     * A terminal network filter that speaks HTTP on the connection and runs {@code config}'s filter chain for
     * every stream. Return it from the HCM's {@code NetworkFilterFactory.create}.
     */
    NetworkFilterInstaller connectionManager(HttpConnectionManagerConfig config);
}
