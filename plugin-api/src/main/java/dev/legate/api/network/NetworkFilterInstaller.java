package dev.legate.api.network;

/**
 * Made once per listener by a {@link NetworkFilterFactory} with the bound config; called once per accepted
 * connection, on that connection's event loop (Envoy's {@code Network::FilterFactoryCb}). Shared by all
 * event loops, so it holds only immutable settings.
 */
@FunctionalInterface
public interface NetworkFilterInstaller {
    /** A new filter for one connection; {@code callbacks} stay valid for the connection's life. */
    NetworkFilter newFilter(NetworkFilterCallbacks callbacks);
}
