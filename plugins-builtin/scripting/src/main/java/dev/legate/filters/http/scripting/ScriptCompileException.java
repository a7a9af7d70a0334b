package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

/**
 * A script that does not compile: a syntax error, with the script's name (file or config field) and line.
 * The message reads {@code <script>:<line>: <detail>}, e.g. {@code /etc/legate/auth.lua:3: '=' expected near 'end'}.
 */
public final class ScriptCompileException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String script;
    private final int line;
    private final String detail;

    /**
     * @param script the script's name ({@link ScriptSource#name()})
     * @param line   1-based line, or 0 when unknown
     * @param detail the engine's message without file and line
     */
    public ScriptCompileException(String script, int line, String detail) {
        super(requireNonNull(script, "script") + (line > 0 ? ":" + line : "") + ": " + requireNonNull(detail, "detail"));
        this.script = script;
        this.line = line;
        this.detail = detail;
    }

    public String script() {
        return script;
    }

    /** 1-based line, or 0 when unknown. */
    public int line() {
        return line;
    }

    public String detail() {
        return detail;
    }
}
