package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Stats;

/**
 * A script filter's stats, declared once per filter config. Envoy's names under the filter's scope
 * ({@code http.<stat_prefix>.lua.} or {@code http.<stat_prefix>.lua.<lua_stat_prefix>.} for Lua, Envoy's
 * {@code LuaFilterStats}), plus Legate's own for reloads and limits.
 */
public final class ScriptStats {

    /** {@code errors}: script runtime errors (and limit stops): the stream went on as if the filter were absent. */
    public final Counter errors;
    /** {@code executions}: script calls started ({@code envoy_on_request}/{@code envoy_on_response}). */
    public final Counter executions;
    /** {@code limit_exceeded} (Legate): calls stopped by the per-call time, instruction or allocation bound. */
    public final Counter limitExceeded;
    /** {@code script_reloads} (Legate): a watched file changed and its new text compiled and serves new streams. */
    public final Counter reloads;
    /** {@code script_reload_errors} (Legate): a watched file changed but did not compile; the old code serves. */
    public final Counter reloadErrors;

    /** @param scope the filter's scope, e.g. {@code stats().scope("lua")} of the HCM's {@code http.<sp>.} context */
    public ScriptStats(Stats scope) {
        requireNonNull(scope, "scope");
        errors = scope.counter("errors");
        executions = scope.counter("executions");
        limitExceeded = scope.counter("limit_exceeded");
        reloads = scope.counter("script_reloads");
        reloadErrors = scope.counter("script_reload_errors");
    }
}
