package dev.legate.filters.http.scripting;

/**
 * An engine's compiler: turns a source into a program that every event loop can instantiate (LuaJ: a
 * {@code Prototype}; GraalVM: a {@code Source}). Called on the main thread at start-up and on the watcher's
 * thread on reload; must be thread-safe and must not run the script.
 *
 * @param <P> the engine's compiled program; immutable, shared across event loops
 */
@FunctionalInterface
public interface ScriptCompiler<P> {
    /**
     * @throws ScriptCompileException with the script's name and line when it does not compile
     */
    P compile(ScriptSource source) throws ScriptCompileException;
}
