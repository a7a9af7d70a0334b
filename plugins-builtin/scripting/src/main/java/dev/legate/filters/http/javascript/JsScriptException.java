package dev.legate.filters.http.javascript;

import dev.legate.filters.http.scripting.ScriptLimitExceeded;
import dev.legate.filters.http.scripting.ScriptResponded;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.SourceSection;
import org.graalvm.polyglot.Value;

/**
 * A JavaScript error as the filter logs it: {@code <script>:<line>: <message>}, like Envoy's Lua errors
 * ({@code script log: /etc/x.lua:3: attempt to index a nil value}).
 */
final class JsScriptException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    JsScriptException(String message) {
        super(message, null, false, false);
    }

    /**
     * What a failed call into a context means for the filter: a {@link ScriptLimitExceeded} when the watch stopped
     * it, {@link ScriptResponded} when {@code respond()} ended it, otherwise a {@code JsScriptException} naming the
     * innermost script frame.
     */
    static Throwable of(PolyglotException e, JsRuntime.Watch watch) {
        String limit = watch.fired();
        if (limit != null && (e.isInterrupted() || e.isCancelled())) {
            return new ScriptLimitExceeded(limit);
        }
        if (e.isHostException()) {
            Throwable host = e.asHostException();
            if (host instanceof ScriptResponded || host instanceof ScriptLimitExceeded) {
                return host;
            }
            return new JsScriptException(where(e) + (host.getMessage() != null ? host.getMessage() : host.toString()));
        }
        if (e.isInterrupted() || e.isCancelled()) {
            return new ScriptLimitExceeded("script interrupted");
        }
        return new JsScriptException(where(e) + e.getMessage());
    }

    /** The reason of a rejected promise ({@code throw} in an async function). */
    static Throwable ofRejection(Value reason) {
        if (reason == null || reason.isNull()) {
            return new JsScriptException("promise rejected: " + reason);
        }
        if (reason.isException()) {
            try {
                reason.throwException();
            } catch (PolyglotException e) {
                if (e.isHostException()) {
                    Throwable host = e.asHostException();
                    if (host instanceof ScriptResponded || host instanceof ScriptLimitExceeded) {
                        return host;
                    }
                    return new JsScriptException(where(e) + host.getMessage());
                }
                return new JsScriptException(where(e) + e.getMessage());
            } catch (RuntimeException e) {
                return new JsScriptException(String.valueOf(e.getMessage()));
            }
        }
        if (reason.isHostObject() && reason.asHostObject() instanceof Throwable t) {
            if (t instanceof ScriptResponded || t instanceof ScriptLimitExceeded) {
                return t;
            }
            return new JsScriptException(String.valueOf(t.getMessage()));
        }
        return new JsScriptException("promise rejected: " + reason);
    }

    /** {@code name:line: } of the innermost guest frame, or empty. */
    private static String where(PolyglotException e) {
        SourceSection at = e.getSourceLocation();
        if (at == null || !at.isAvailable()) {
            for (PolyglotException.StackFrame f : e.getPolyglotStackTrace()) {
                if (f.isGuestFrame() && f.getSourceLocation() != null) {
                    at = f.getSourceLocation();
                    break;
                }
            }
        }
        if (at == null) {
            return "";
        }
        return at.getSource().getName() + ":" + at.getStartLine() + ": ";
    }
}
