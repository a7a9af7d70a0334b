package dev.legate.filters.http.lua;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.filters.http.scripting.ScriptCompileException;
import dev.legate.filters.http.scripting.ScriptLimits;
import dev.legate.filters.http.scripting.ScriptSource;
import dev.legate.filters.http.scripting.WorkerStates;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Prototype;
import org.luaj.vm2.compiler.LuaC;

/**
 * One compiled version of a Lua script: LuaJ's {@link Prototype} (immutable, shared by every event loop) and the
 * per-worker {@link LuaState}s made from it (Envoy: one {@code lua_State} per script per worker). A reload makes
 * a new program, so new streams get fresh states while streams in flight keep theirs.
 *
 * <p>Compiling also answers whether the script <em>may wait</em>: whether any of its functions names a handle
 * method that can wait ({@code body}, {@code bodyChunks}, {@code trailers}, {@code httpCall}). Only calls of such
 * scripts are run on a {@link dev.legate.filters.http.scripting.ScriptCarrier}; every other call runs directly on
 * the event loop.
 */
final class LuaProgram {

    private static final Pattern ERROR = Pattern.compile("^(.*?):(\\d+): (.*)$", Pattern.DOTALL);
    private static final Pattern UNEXPECTED = Pattern.compile("unexpected symbol (\\d+) \\(.*\\)", Pattern.DOTALL);
    /** LuaJ's token names from 257 on (LexState's ORDER RESERVED), to name a token LuaJ reports by number. */
    private static final String[] TOKENS = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local",
        "nil", "not", "or", "repeat", "return", "then", "true", "until", "while", "..", "...", "==", ">=", "<=",
        "~=", "::", "<eos>", "<number>", "<name>", "<string>", "<eof>",
    };
    private static final Set<String> BODY_METHODS = Set.of("body", "bodyChunks", "trailers");

    final ScriptSource source;
    final Prototype prototype;
    /** Some function names {@code body}, {@code bodyChunks} or {@code trailers}. */
    final boolean usesBody;
    /** Some function names {@code httpCall}. */
    final boolean usesHttpCall;
    final ScriptLimits limits;
    final WorkerStates<LuaState> states;

    private LuaProgram(ScriptSource source, Prototype prototype, ScriptLimits limits) {
        this.source = source;
        this.prototype = prototype;
        this.limits = limits;
        boolean[] refs = new boolean[2];
        scan(prototype, refs);
        this.usesBody = refs[0];
        this.usesHttpCall = refs[1];
        this.states = new WorkerStates<>(d -> new LuaState(this, d));
    }

    /**
     * Compiles {@code source} and runs its top-level code once in a scratch state (as Envoy loads a script at
     * config time), so that a syntax error or a failing top-level statement is a compile error.
     *
     * @throws ScriptCompileException naming the script and line
     */
    static LuaProgram compile(ScriptSource source, ScriptLimits limits) throws ScriptCompileException {
        requireNonNull(source, "source");
        Prototype p;
        try {
            p = LuaC.instance.compile(new ByteArrayInputStream(source.text().getBytes(StandardCharsets.UTF_8)),
                    "@" + source.name());
        } catch (LuaError e) {
            throw compileError(source, e.getMessage());
        } catch (IOException e) {
            throw new ScriptCompileException(source.name(), 0, e.toString());
        }
        LuaProgram program = new LuaProgram(source, p, limits);
        try {
            new LuaState(program, null);
        } catch (LuaError e) {
            throw compileError(source, LuaState.message(e));
        } catch (dev.legate.filters.http.scripting.ScriptLimitExceeded e) {
            throw new ScriptCompileException(source.name(), 0, "top-level code: " + e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            throw new ScriptCompileException(source.name(), 0, String.valueOf(e.getMessage()));
        }
        return program;
    }

    /** This event loop's state, made on first use. */
    LuaState state(Dispatcher dispatcher) {
        return states.get(dispatcher);
    }

    private static ScriptCompileException compileError(ScriptSource source, String message) {
        String m = message == null ? "error" : message.strip();
        Matcher matcher = ERROR.matcher(m);
        if (matcher.matches()) {
            return new ScriptCompileException(source.name(), Integer.parseInt(matcher.group(2)),
                    readable(matcher.group(3)));
        }
        return new ScriptCompileException(source.name(), 0, m);
    }

    /** LuaJ says {@code unexpected symbol 262 (Ć)}; Lua says {@code unexpected symbol near 'end'}. */
    private static String readable(String detail) {
        Matcher m = UNEXPECTED.matcher(detail);
        if (!m.matches()) {
            return detail;
        }
        int token = Integer.parseInt(m.group(1));
        String name = token < 257 ? String.valueOf((char) token)
                : token - 257 < TOKENS.length ? TOKENS[token - 257] : m.group(1);
        return "unexpected symbol near '" + name + "'";
    }

    private static void scan(Prototype p, boolean[] refs) {
        for (LuaValue k : p.k) {
            if (k instanceof LuaString s) {
                String name = s.tojstring();
                if (BODY_METHODS.contains(name)) {
                    refs[0] = true;
                } else if (name.equals("httpCall")) {
                    refs[1] = true;
                }
            }
        }
        for (Prototype child : p.p) {
            scan(child, refs);
        }
    }
}
