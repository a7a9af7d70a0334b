package dev.legate.filters.http.javascript;

import static java.util.Objects.requireNonNull;

import dev.legate.filters.http.scripting.ScriptCompileException;
import dev.legate.filters.http.scripting.ScriptCompiler;
import dev.legate.filters.http.scripting.ScriptSource;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.SourceSection;

/**
 * The JavaScript {@link ScriptCompiler}: builds a GraalVM {@link Source} (named after the script's file or
 * config field, so that errors and stack traces name it) and parses it once in a throwaway context on the
 * shared engine, which checks the syntax and caches the parsed code for every worker's context. Does not run
 * the script. Thread-safe.
 */
final class JsCompiler implements ScriptCompiler<Source> {

    private final JsRuntime runtime;

    JsCompiler(JsRuntime runtime) {
        this.runtime = requireNonNull(runtime, "runtime");
    }

    /**
     * @throws ScriptCompileException {@code <script>:<line>: SyntaxError: ...} when the text does not parse
     */
    @Override
    public Source compile(ScriptSource script) throws ScriptCompileException {
        requireNonNull(script, "script");
        Source source = Source.newBuilder(JsRuntime.JS, script.text(), script.name())
                .cached(true)
                .buildLiteral();
        try (Context context = runtime.newContext()) {
            context.parse(source);
        } catch (PolyglotException e) {
            if (!e.isSyntaxError()) {
                throw new ScriptCompileException(script.name(), 0, e.getMessage());
            }
            SourceSection at = e.getSourceLocation();
            throw new ScriptCompileException(script.name(), at != null ? at.getStartLine() : 0, firstLine(e));
        }
        return source;
    }

    /**
     * GraalJS's syntax message is {@code SyntaxError: <name>:<line>:<col> <detail>} followed by the line and a
     * caret; keeps {@code SyntaxError: <detail> (column <col>)}.
     */
    private static String firstLine(PolyglotException e) {
        String message = String.valueOf(e.getMessage());
        int nl = message.indexOf('\n');
        String first = nl < 0 ? message : message.substring(0, nl);
        SourceSection at = e.getSourceLocation();
        if (at != null) {
            String where = at.getSource().getName() + ":" + at.getStartLine() + ":";
            int i = first.indexOf(where);
            if (i >= 0) {
                int detail = first.indexOf(' ', i + where.length());
                first = first.substring(0, i) + (detail < 0 ? "" : first.substring(detail + 1))
                        + " (column " + at.getStartColumn() + ")";
            }
        }
        return first;
    }
}
