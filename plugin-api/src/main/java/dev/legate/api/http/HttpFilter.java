package dev.legate.api.http;

/**
 * An HTTP filter: one instance per stream, made by an {@link HttpFilterInstaller}, confined to the stream's
 * event loop (Envoy's {@code StreamFilter}). Implement only the callbacks you need; the rest continue.
 */
public interface HttpFilter extends StreamDecoderFilter, StreamEncoderFilter {

    /**
     * The stream ended (completed or reset). Cancel timers and outstanding calls here; afterwards the filter
     * must not touch its callbacks.
     */
    default void onDestroy() {
    }
}
