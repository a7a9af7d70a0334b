package dev.legate.api.network;

import dev.legate.api.Dispatcher;
import dev.legate.api.StreamInfo;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;

/**
 * A downstream connection, as network filters see it. All methods must be called on {@link #dispatcher()}.
 */
public interface Connection {

    /** A process-unique id, for logs. */
    long id();

    InetSocketAddress remoteAddress();

    InetSocketAddress localAddress();

    /** The connection's event loop. */
    Dispatcher dispatcher();

    /** Per-connection info and filter state; the access log of an L4 filter reads it. */
    StreamInfo streamInfo();

    /**
     * Writes {@code data} to the peer through the write filters (in reverse order).
     *
     * @param data      transferred: the host releases it
     * @param endStream half-close the write side after this data (TCP FIN)
     */
    void write(ByteBuf data, boolean endStream);

    /** Closes the connection; filters get {@link ConnectionEvent#LOCAL_CLOSE}. Idempotent. */
    void close(CloseType type);

    /**
     * Stops ({@code true}) or resumes ({@code false}) reading from the socket. Counted, as in Envoy: n
     * disables need n enables before reading resumes.
     */
    void readDisable(boolean disable);

    /** Whether the write buffer is below its high watermark ({@code per_connection_buffer_limit_bytes}). */
    boolean isWritable();

    /**
     * Registers for crossings of this connection's write-buffer watermarks: above high (stop feeding it),
     * below low (resume). Called on the loop.
     */
    void addWatermarkCallbacks(WatermarkCallbacks callbacks);

    /** Whether the connection is still open. */
    boolean isOpen();
}
