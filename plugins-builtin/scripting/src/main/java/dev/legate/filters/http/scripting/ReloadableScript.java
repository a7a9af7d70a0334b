package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A script and its current compiled version. Inline scripts never change. A file script is watched: when the
 * file changes, its new text is compiled on the watcher's thread and, if it compiles, serves new streams
 * ({@link ScriptStats#reloads}); if it does not, the error is logged with file and line, counted
 * ({@link ScriptStats#reloadErrors}) and the old version keeps serving. Streams in flight keep the
 * {@link CompiledScript} they started with.
 *
 * <p>{@link #current()} is a volatile read, safe from any event loop.
 *
 * @param <P> the engine's program type
 */
public final class ReloadableScript<P> {

    private static final Logger log = LoggerFactory.getLogger(ReloadableScript.class);

    private final ScriptCompiler<P> compiler;
    private final ScriptStats stats;
    private volatile CompiledScript<P> current;

    private ReloadableScript(CompiledScript<P> first, ScriptCompiler<P> compiler, ScriptStats stats) {
        this.current = first;
        this.compiler = compiler;
        this.stats = stats;
    }

    /**
     * Compiles {@code source} at start-up and, for a file, watches it.
     *
     * @param watcher where file sources are watched; {@code null} for no watching
     * @throws ConfigException when it does not compile: {@code inline_code: line 3: '=' expected near 'end'} or
     *                         {@code default_source_code.filename: /etc/x.lua:3: ...}
     */
    public static <P> ReloadableScript<P> compile(ScriptSource source, ScriptCompiler<P> compiler, ScriptStats stats,
                                                  ScriptWatcher watcher) {
        requireNonNull(source, "source");
        requireNonNull(compiler, "compiler");
        requireNonNull(stats, "stats");
        P program;
        try {
            program = compiler.compile(source);
        } catch (ScriptCompileException e) {
            throw configError(source, e);
        }
        ReloadableScript<P> script = new ReloadableScript<>(new CompiledScript<>(source, program, 1), compiler, stats);
        if (source.isFile() && watcher != null) {
            watcher.watch(source.file(), script::reload);
        }
        return script;
    }

    /**
     * Compiles {@code source} at load into a script that never changes (a per-route {@code source_code}: it lives
     * with the route table, is not watched and has no listener stats).
     *
     * @throws ConfigException when it does not compile, as {@link #compile}
     */
    public static <P> ReloadableScript<P> fixed(ScriptSource source, ScriptCompiler<P> compiler) {
        requireNonNull(source, "source");
        requireNonNull(compiler, "compiler");
        try {
            return new ReloadableScript<>(new CompiledScript<>(source, compiler.compile(source), 1), null, null);
        } catch (ScriptCompileException e) {
            throw configError(source, e);
        }
    }

    /** The config error for a script that does not compile at start-up. */
    public static ConfigException configError(ScriptSource source, ScriptCompileException e) {
        if (source.isFile()) {
            return ConfigException.at(source.fieldPath() + ".filename", e.getMessage());
        }
        return ConfigException.at(source.fieldPath(), (e.line() > 0 ? "line " + e.line() + ": " : "") + e.detail());
    }

    /** The version new streams use. */
    public CompiledScript<P> current() {
        return current;
    }

    /**
     * Re-reads and re-compiles a file script (the watcher calls it); whether a new version now serves. A no-op for
     * inline scripts and when the text did not change.
     */
    public boolean reload() {
        CompiledScript<P> old = current;
        ScriptSource source = old.source();
        if (!source.isFile() || compiler == null) {
            return false;
        }
        String text;
        try {
            text = Files.readString(source.file(), StandardCharsets.UTF_8);
        } catch (Exception e) {
            stats.reloadErrors.inc();
            log.error("script {}: cannot read the changed file ({}); the previous version keeps serving",
                    source.name(), e.toString());
            return false;
        }
        if (text.equals(source.text())) {
            return false;
        }
        ScriptSource changed = source.withText(text);
        try {
            P program = compiler.compile(changed);
            current = new CompiledScript<>(changed, program, old.version() + 1);
            stats.reloads.inc();
            log.info("script {}: reloaded (version {})", source.name(), old.version() + 1);
            return true;
        } catch (ScriptCompileException e) {
            stats.reloadErrors.inc();
            log.error("script {} does not compile; the previous version keeps serving: {}", source.name(),
                    e.getMessage());
            return false;
        } catch (RuntimeException e) {
            stats.reloadErrors.inc();
            log.error("script {}: reload failed; the previous version keeps serving", source.name(), e);
            return false;
        }
    }
}
