package dev.legate.host.listener;

/**
 * A listener could not bind its address (in use, not local, no permission). Start-up fails; the message names
 * the listener and the address, e.g. {@code listener listener_0: cannot bind 127.0.0.1:10000: Address already
 * in use}.
 */
public final class ListenerBindException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ListenerBindException(String message, Throwable cause) {
        super(message, cause);
    }
}
