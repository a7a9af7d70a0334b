package dev.legate.filters.http.scripting;

/**
 * Thrown by {@link CallBudget#check} when a call passed one of its {@link ScriptLimits}. An {@link Error}, not an
 * exception, so that a script's own {@code pcall}/{@code try} does not swallow it (LuaJ's {@code pcall} catches
 * {@code Exception}s only). The filter counts it in {@link ScriptStats#limitExceeded} and {@link ScriptStats#errors},
 * logs it and lets the stream go on (fail-open).
 */
public final class ScriptLimitExceeded extends Error {
    private static final long serialVersionUID = 1L;

    public ScriptLimitExceeded(String message) {
        super(message, null, false, false);
    }
}
