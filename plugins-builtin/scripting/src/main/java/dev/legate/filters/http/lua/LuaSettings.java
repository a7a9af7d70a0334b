package dev.legate.filters.http.lua;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.stats.Stats;
import dev.legate.filters.http.scripting.ReloadableScript;
import dev.legate.filters.http.scripting.ScriptCompileException;
import dev.legate.filters.http.scripting.ScriptCompiler;
import dev.legate.filters.http.scripting.ScriptHttpClient;
import dev.legate.filters.http.scripting.ScriptHttpFilter;
import dev.legate.filters.http.scripting.ScriptLimits;
import dev.legate.filters.http.scripting.ScriptSource;
import dev.legate.filters.http.scripting.ScriptStats;
import dev.legate.filters.http.scripting.ScriptWatcher;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.LuaPerRoute;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compiled config of one {@code envoy.filters.http.lua} entry: the default script, the named
 * {@code source_codes}, stats. Immutable apart from the scripts' current versions (volatile, swapped by the file
 * watcher). Per-route {@code source_code} entries are compiled when the route table is built
 * ({@link RouteScript}), never on the data path. Shared by every event loop.
 */
final class LuaSettings {

    static final Logger LOG = LoggerFactory.getLogger("dev.legate.filters.http.lua");

    private final ReloadableScript<LuaProgram> defaultScript;
    private final Map<String, ReloadableScript<LuaProgram>> named;
    /** Per-route names not in {@code source_codes}, each warned about once. */
    private final Set<String> unknownNames = ConcurrentHashMap.newKeySet();
    private final ScriptHttpFilter.Settings filterSettings;
    private final boolean clearRouteCache;

    private LuaSettings(ReloadableScript<LuaProgram> defaultScript, Map<String, ReloadableScript<LuaProgram>> named,
                        ScriptHttpFilter.Settings filterSettings, boolean clearRouteCache) {
        this.defaultScript = defaultScript;
        this.named = named;
        this.filterSettings = filterSettings;
        this.clearRouteCache = clearRouteCache;
    }

    /**
     * Binds a {@code Lua} config: reads and compiles every script (a syntax error or a failing top-level statement
     * is a config error naming the field, file and line), watches file scripts (closed with the listener).
     *
     * @param context the HCM's context: stats are {@code http.<stat_prefix>.lua.[<lua stat_prefix>.]}
     * @throws ConfigException naming the field
     */
    static LuaSettings from(Lua config, FactoryContext context, ScriptLimits limits) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        if (!config.getInlineCode().isEmpty() && config.hasDefaultSourceCode()) {
            throw ConfigException.at("inline_code",
                    "set together with default_source_code (expected: only one of them)");
        }
        Stats scope = context.stats().scope("lua");
        if (!config.getStatPrefix().isEmpty()) {
            scope = scope.scope(config.getStatPrefix());
        }
        ScriptStats stats = new ScriptStats(scope);
        Path dir = context.configDirectory();
        ScriptCompiler<LuaProgram> compiler = source -> LuaProgram.compile(source, limits);

        boolean hasFiles = config.getDefaultSourceCode().hasFilename()
                || config.getSourceCodesMap().values().stream().anyMatch(DataSource::hasFilename);
        ScriptWatcher watcher = null;
        if (hasFiles && !context.validateOnly()) {
            watcher = new ScriptWatcher("lua");
            context.onClose(watcher);
        }

        ReloadableScript<LuaProgram> defaultScript = null;
        if (!config.getInlineCode().isEmpty()) {
            defaultScript = ReloadableScript.compile(ScriptSource.inline("inline_code", config.getInlineCode()),
                    compiler, stats, watcher);
        } else if (config.hasDefaultSourceCode()) {
            defaultScript = ReloadableScript.compile(
                    ScriptSource.load(config.getDefaultSourceCode(), dir, "default_source_code"), compiler, stats,
                    watcher);
        }
        Map<String, ReloadableScript<LuaProgram>> named = new LinkedHashMap<>();
        for (Map.Entry<String, DataSource> e : new TreeMap<>(config.getSourceCodesMap()).entrySet()) {
            String field = "source_codes[" + e.getKey() + "]";
            named.put(e.getKey(), ReloadableScript.compile(ScriptSource.load(e.getValue(), dir, field), compiler,
                    stats, watcher));
        }
        boolean clear = !config.hasClearRouteCache() || config.getClearRouteCache().getValue();
        ScriptHttpFilter.Settings fs = new ScriptHttpFilter.Settings(LuaFilterFactory.NAME, LuaFilterFactory.NAME,
                stats, LOG, "lua_response", ScriptHttpClient.MAX_RESPONSE_BYTES);
        return new LuaSettings(defaultScript, Map.copyOf(named), fs, clear);
    }

    /** What the engine-neutral filter needs. */
    ScriptHttpFilter.Settings filterSettings() {
        return filterSettings;
    }

    ScriptStats stats() {
        return filterSettings.stats();
    }

    boolean clearRouteCache() {
        return clearRouteCache;
    }

    /** The default script's current program, or {@code null} when none is configured. */
    LuaProgram defaultProgram() {
        return defaultScript == null ? null : defaultScript.current().program();
    }

    /** The default script (for tests and reloads). */
    ReloadableScript<LuaProgram> defaultScript() {
        return defaultScript;
    }

    /** A {@code LuaPerRoute} whose inline {@code source_code} was compiled when the route table was built. */
    record RouteScript(LuaPerRoute config, LuaProgram program) { }

    /**
     * Compiles a per-route {@code source_code} at load.
     *
     * @throws ConfigException naming {@code source_code} and the line
     */
    static RouteScript compileRouteScript(LuaPerRoute perRoute, Path configDirectory, ScriptLimits limits) {
        ScriptSource source = ScriptSource.load(perRoute.getSourceCode(), configDirectory, "source_code");
        try {
            return new RouteScript(perRoute, LuaProgram.compile(source, limits));
        } catch (ScriptCompileException e) {
            throw ReloadableScript.configError(source, e);
        }
    }

    /**
     * The program for a route's per-filter config as the host hands it over: a {@link RouteScript} (compiled at
     * load), a {@code LuaPerRoute}, or {@code null}.
     */
    LuaProgram programFor(Object perRouteConfig) {
        if (perRouteConfig instanceof RouteScript rs) {
            return rs.program();
        }
        return programFor(perRouteConfig instanceof LuaPerRoute p ? p : null);
    }

    /**
     * The program a route selects: {@code null} when it disables the filter or names an unknown source (warned
     * once per name); else the named script or the default.
     *
     * @throws IllegalStateException for a {@code source_code} entry that was not compiled at load (a host defect)
     */
    LuaProgram programFor(LuaPerRoute perRoute) {
        if (perRoute == null) {
            return defaultProgram();
        }
        return switch (perRoute.getOverrideCase()) {
            case DISABLED -> perRoute.getDisabled() ? null : defaultProgram();
            case NAME -> {
                ReloadableScript<LuaProgram> s = named.get(perRoute.getName());
                if (s == null) {
                    if (unknownNames.add(perRoute.getName())) {
                        LOG.warn("per-route name {} is not in source_codes; the filter does nothing on its routes",
                                perRoute.getName());
                    }
                    yield null;
                }
                yield s.current().program();
            }
            case SOURCE_CODE -> throw new IllegalStateException(
                    "per-route source_code was not compiled at load (createRouteSpecificConfig)");
            default -> defaultProgram();
        };
    }
}
