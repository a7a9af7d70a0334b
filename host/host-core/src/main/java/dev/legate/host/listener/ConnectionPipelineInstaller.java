package dev.legate.host.listener;

import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.NetworkFilterInstaller;

/**
 * A terminal network filter implemented by the host as Netty handlers rather than as a
 * {@link NetworkFilter}: the HTTP connection manager's codec and stream machine. The listener installs the
 * handlers after the handler that runs the chain's other network filters, whose bytes then flow into them
 * as {@code ByteBuf} messages.
 */
public interface ConnectionPipelineInstaller extends NetworkFilterInstaller {

    /** Adds this filter's handlers at the end of {@code connection.channel()}'s pipeline, on its loop. */
    void install(DownstreamConnection connection);

    @Override
    default NetworkFilter newFilter(NetworkFilterCallbacks callbacks) {
        throw new UnsupportedOperationException("installed as pipeline handlers, see install()");
    }
}
