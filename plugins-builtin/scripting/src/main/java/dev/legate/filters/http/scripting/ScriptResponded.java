package dev.legate.filters.http.scripting;

/**
 * Thrown by {@link ScriptStream#respond} after the local response went out: it ends the script (Envoy's
 * {@code respond()} never returns to the script). An {@link Error} so that script code cannot catch it; the engine
 * treats it as a normal end of the call.
 */
public final class ScriptResponded extends Error {
    private static final long serialVersionUID = 1L;

    /** The one instance (no stack trace, no state). */
    public static final ScriptResponded INSTANCE = new ScriptResponded();

    private ScriptResponded() {
        super("respond() ended the script", null, false, false);
    }
}
