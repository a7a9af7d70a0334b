package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

/**
 * One compiled version of a script. Immutable; a stream keeps the version it started with.
 *
 * @param source  what was compiled
 * @param program the engine's program
 * @param version 1 for the first compile, +1 for each successful reload
 * @param <P>     the engine's program type
 */
public record CompiledScript<P>(ScriptSource source, P program, long version) {
    public CompiledScript {
        requireNonNull(source, "source");
        requireNonNull(program, "program");
    }
}
