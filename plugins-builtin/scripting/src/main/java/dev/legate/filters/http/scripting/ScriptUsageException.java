package dev.legate.filters.http.scripting;

/**
 * A script used the handle API wrongly (Envoy raises these as script errors): {@code respond()} on the response
 * path, a header change after the headers went on, an unknown cluster in {@code httpCall}, a missing
 * {@code :status}. The engine turns it into the language's error (a Lua error), so {@code pcall} can catch it.
 */
public final class ScriptUsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ScriptUsageException(String message) {
        super(message, null, false, false);
    }
}
