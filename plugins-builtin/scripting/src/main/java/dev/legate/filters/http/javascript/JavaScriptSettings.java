package dev.legate.filters.http.javascript;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.filters.http.javascript.v1.JavaScript;
import dev.legate.filters.http.javascript.v1.JavaScriptPerRoute;
import dev.legate.filters.http.scripting.Direction;
import dev.legate.filters.http.scripting.ReloadableScript;
import dev.legate.filters.http.scripting.ScriptHttpClient;
import dev.legate.filters.http.scripting.ScriptHttpFilter;
import dev.legate.filters.http.scripting.ScriptInvocation;
import dev.legate.filters.http.scripting.ScriptLimitExceeded;
import dev.legate.filters.http.scripting.ScriptLimits;
import dev.legate.filters.http.scripting.ScriptSource;
import dev.legate.filters.http.scripting.ScriptStats;
import dev.legate.filters.http.scripting.ScriptStream;
import dev.legate.filters.http.scripting.ScriptWatcher;
import dev.legate.filters.http.scripting.WorkerStates;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.graalvm.polyglot.Source;
import org.graalvm.polyglot.Value;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound {@code legate.filters.http.javascript} config: the compiled scripts (default, named),
 * the failure mode, the call bound, the stats, and the per-event-loop JavaScript states. Shared across event loops:
 * its fields are immutable or thread-safe; per-loop state lives in {@link WorkerStates}.
 *
 * <p>As the {@link ScriptInvocation.Factory} of the engine-neutral {@link ScriptHttpFilter} it picks the script for
 * a stream (the route's {@code JavaScriptPerRoute}: {@code disabled}, {@code name}, {@code source_code}; otherwise
 * {@code default_source_code}) and makes the direction's {@link JsInvocation} on the stream's event loop.
 */
final class JavaScriptSettings implements ScriptInvocation.Factory, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JavaScriptFilterFactory.NAME);

    /** The response code details of {@code respond()}. */
    static final String RESPOND_DETAILS = "javascript_response";

    private final ScriptStats stats;
    private final ScriptHttpFilter.Settings filterSettings;
    private final ReloadableScript<Source> defaultScript;
    private final Map<String, ReloadableScript<Source>> named;
    /** Per-route names not in {@code source_codes}, each warned about once. */
    private final Set<String> unknownNames = ConcurrentHashMap.newKeySet();
    private final boolean failClosed;
    private final long callTimeoutNanos;
    private final WorkerStates<JsWorker> workers;

    private JavaScriptSettings(ScriptStats stats, ReloadableScript<Source> defaultScript,
                               Map<String, ReloadableScript<Source>> named, boolean failClosed, long callTimeoutNanos,
                               JsRuntime runtime) {
        this.stats = stats;
        this.defaultScript = defaultScript;
        this.named = named;
        this.failClosed = failClosed;
        this.callTimeoutNanos = callTimeoutNanos;
        this.filterSettings = new ScriptHttpFilter.Settings(JavaScriptFilterFactory.NAME, null, stats, log,
                RESPOND_DETAILS, ScriptHttpClient.MAX_RESPONSE_BYTES);
        long maxAllocated = ScriptLimits.DEFAULT.maxAllocatedBytes();
        this.workers = new WorkerStates<>(d -> new JsWorker(runtime, callTimeoutNanos, maxAllocated, d));
    }

    /**
     * Binds and compiles {@code config} on the main thread.
     *
     * @throws ConfigException naming the field: a script that does not compile ({@code default_source_code: line 2:
     *                         SyntaxError: ...}, {@code source_codes[auth].filename: /x/auth.js:3: SyntaxError: ...}),
     *                         a file that cannot be read, {@code call_timeout} not positive, an unknown
     *                         {@code failure_mode}
     */
    static JavaScriptSettings from(JavaScript config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        boolean failClosed = switch (config.getFailureMode()) {
            case FAIL_OPEN -> false;
            case FAIL_CLOSED -> true;
            default -> throw ConfigException.at("failure_mode",
                    config.getFailureModeValue() + " (expected: FAIL_OPEN or FAIL_CLOSED)");
        };
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(ScriptLimits.DEFAULT.maxCallMillis() > 0
                ? ScriptLimits.DEFAULT.maxCallMillis() : 200);
        if (config.hasCallTimeout()) {
            Duration d = config.getCallTimeout();
            long nanos = d.getSeconds() * 1_000_000_000L + d.getNanos();
            if (nanos <= 0) {
                throw ConfigException.at("call_timeout", d.getSeconds() + "s" + (d.getNanos() != 0
                        ? " " + d.getNanos() + "ns" : "") + " (expected: > 0)");
            }
            timeoutNanos = nanos;
        }
        String prefix = config.getStatPrefix();
        ScriptStats stats = new ScriptStats(context.stats().scope(prefix.isEmpty() ? "javascript"
                : "javascript." + prefix));

        JsRuntime runtime = JsRuntime.get();
        JsCompiler compiler = new JsCompiler(runtime);
        boolean anyFile = config.getDefaultSourceCode().hasFilename()
                || config.getSourceCodesMap().values().stream().anyMatch(DataSource::hasFilename);
        ScriptWatcher watcher = null;
        if (anyFile && !context.validateOnly()) {
            watcher = new ScriptWatcher(JavaScriptFilterFactory.NAME);
            context.onClose(watcher);
        }
        ReloadableScript<Source> defaultScript = null;
        if (config.hasDefaultSourceCode()) {
            ScriptSource source = ScriptSource.load(config.getDefaultSourceCode(), context.configDirectory(),
                    "default_source_code");
            defaultScript = ReloadableScript.compile(source, compiler, stats, watcher);
        }
        Map<String, ReloadableScript<Source>> named = new LinkedHashMap<>();
        for (Map.Entry<String, DataSource> e : new java.util.TreeMap<>(config.getSourceCodesMap()).entrySet()) {
            ScriptSource source = ScriptSource.load(e.getValue(), context.configDirectory(),
                    "source_codes[" + e.getKey() + "]");
            named.put(e.getKey(), ReloadableScript.compile(source, compiler, stats, watcher));
        }
        JavaScriptSettings settings = new JavaScriptSettings(stats, defaultScript, Map.copyOf(named),
                failClosed, timeoutNanos, runtime);
        context.onClose(settings);
        return settings;
    }

    /** What the engine-neutral filter shares with its streams. */
    ScriptHttpFilter.Settings filterSettings() {
        return filterSettings;
    }

    ScriptStats scriptStats() {
        return stats;
    }

    Logger log() {
        return log;
    }

    /** {@code failure_mode: FAIL_CLOSED}. */
    boolean failClosed() {
        return failClosed;
    }

    /** The bound of one call, in nanoseconds. */
    long callTimeoutNanos() {
        return callTimeoutNanos;
    }

    // ScriptInvocation.Factory

    /** Called on the stream's event loop when the direction's headers arrive. */
    @Override
    public ScriptInvocation create(Direction direction, ScriptStream stream, boolean endStream) {
        HttpFilterCallbacks callbacks = stream.callbacks();
        ReloadableScript<Source> script;
        JsWorker.State state;
        try {
            script = select(callbacks);
            if (script == null) {
                return null;
            }
            state = workers.get(callbacks.dispatcher()).acquire(script);
        } catch (RuntimeException | ScriptLimitExceeded e) {
            if (!failClosed) {
                throw e instanceof RuntimeException r ? r : new JsScriptException(e.getMessage());
            }
            failClosedReply(stream, e);
            return null;
        }
        Value fn = direction == Direction.REQUEST ? state.onRequest : state.onResponse;
        if (fn == null) {
            state.release();
            return null;
        }
        return new JsInvocation(this, state, fn, stream, direction);
    }

    /**
     * A {@code JavaScriptPerRoute} whose {@code source_code} was compiled when the route table was built
     * ({@link JavaScriptFilterFactory#createRouteSpecificConfig}). Immutable; shared by every event loop, which
     * each make their own context of {@code script} on first use.
     */
    record RouteScript(JavaScriptPerRoute config, ReloadableScript<Source> script) {
        RouteScript {
            requireNonNull(config, "config");
            requireNonNull(script, "script");
        }
    }

    /**
     * The script for the stream's route, or {@code null} when none runs: a {@link RouteScript} compiled at load, a
     * {@code JavaScriptPerRoute} ({@code disabled}, {@code name}), else the default. Never compiles.
     *
     * @throws IllegalStateException for a {@code source_code} entry that was not compiled at load (a host defect)
     */
    private ReloadableScript<Source> select(HttpFilterCallbacks callbacks) {
        Object perRoute = callbacks.perRouteConfig(Object.class);
        if (perRoute instanceof RouteScript rs) {
            return rs.script();
        }
        if (!(perRoute instanceof JavaScriptPerRoute route)) {
            return defaultScript;
        }
        return switch (route.getOverrideCase()) {
            case DISABLED -> route.getDisabled() ? null : defaultScript;
            case NAME -> {
                ReloadableScript<Source> s = named.get(route.getName());
                if (s == null && unknownNames.add(route.getName())) {
                    log.warn("per-route name {} is not in source_codes; the filter does nothing on its routes",
                            route.getName());
                }
                yield s;
            }
            case SOURCE_CODE -> throw new IllegalStateException(
                    "per-route source_code was not compiled at load (createRouteSpecificConfig)");
            case OVERRIDE_NOT_SET -> defaultScript;
        };
    }

    /**
     * {@code FAIL_CLOSED}: counts and logs {@code error} as the engine-neutral filter would, and answers 500 (or
     * resets the stream when the response already started).
     */
    void failClosedReply(ScriptStream stream, Throwable error) {
        stats.errors.inc();
        if (error instanceof ScriptLimitExceeded) {
            stats.limitExceeded.inc();
        }
        log.error("script log: {}", error.getMessage());
        stream.callbacks().sendLocalReply(500, "", null, JsInvocation.ERROR_DETAILS);
    }

    /** The listener closed: closes each loop's contexts on that loop. */
    @Override
    public void close() {
        workers.forEach(w -> {
            try {
                w.dispatcher().execute(w::closeAll);
            } catch (RuntimeException e) {
                // the event loop already stopped: its contexts go with the engine
                log.debug("closing JavaScript states: {}", e.toString());
            }
        });
    }
}
