package dev.legate.filters.http.scripting;

/**
 * The engine's side of one script call for one direction of one stream ({@code envoy_on_request(handle)} or
 * {@code envoy_on_response(handle)}). Made and driven by {@link ScriptHttpFilter} on the stream's event loop.
 */
public interface ScriptInvocation {

    /** How far a {@link #run()} got. */
    enum Outcome {
        /** The script returned (or called {@code respond()}). */
        FINISHED,
        /**
         * The script waits for what it registered with {@link ScriptStream} ({@code awaitBody}, {@code awaitChunk},
         * {@code awaitTrailers}, {@code awaitHttpCall}); the filter calls {@link #run()} again when it is there.
         */
        WAITING,
        /** The script raised an error or passed a limit; see {@link #failure()}. The filter fails open. */
        FAILED
    }

    /**
     * Starts the call (first time) or resumes it after a wait; returns when it ends, fails or waits again. Must
     * not throw because of the script: errors are {@link Outcome#FAILED}.
     */
    Outcome run();

    /**
     * Why the last {@link #run()} failed: a {@link ScriptLimitExceeded}, or the engine's error whose message
     * names the script and line (e.g. {@code /etc/x.lua:3: attempt to index a nil value}).
     */
    Throwable failure();

    /** The stream ended while the call waits: drop it (unwind its carrier). Idempotent. */
    void cancel();

    /** Made by the engine per filter config; asked once per stream direction. */
    @FunctionalInterface
    interface Factory {
        /**
         * The call for {@code direction}, or {@code null} when the script defines no entry for it (Envoy: "no
         * envoy_on_request/envoy_on_response function", that direction is skipped) or the route disables it.
         * Called on the event loop when the direction's headers arrive.
         *
         * @param endStream the headers end the direction (no body follows): the call cannot wait for a body
         */
        ScriptInvocation create(Direction direction, ScriptStream stream, boolean endStream);
    }
}
