package dev.legate.api.network;

/** A connection's end, as seen by a filter (Envoy's {@code ConnectionEvent}). */
public enum ConnectionEvent {
    /** The peer closed or reset the connection. */
    REMOTE_CLOSE,
    /** This side closed the connection. */
    LOCAL_CLOSE
}
