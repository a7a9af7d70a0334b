package dev.legate.api.network;

/** How to close a connection (Envoy's {@code ConnectionCloseType}). */
public enum CloseType {
    /** Write what is queued, then close. */
    FLUSH_WRITE,
    /** Close at once; queued bytes are dropped. */
    NO_FLUSH
}
