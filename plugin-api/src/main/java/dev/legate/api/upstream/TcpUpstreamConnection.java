package dev.legate.api.upstream;

import dev.legate.api.network.CloseType;
import io.netty.buffer.ByteBuf;

/** An upstream TCP connection owned by one user. Confined to its event loop. */
public interface TcpUpstreamConnection {

    /** @param data transferred; {@code endStream} half-closes the write side */
    void write(ByteBuf data, boolean endStream);

    void close(CloseType type);

    /** Counted, like {@link dev.legate.api.network.Connection#readDisable}. */
    void readDisable(boolean disable);

    boolean isWritable();
}
