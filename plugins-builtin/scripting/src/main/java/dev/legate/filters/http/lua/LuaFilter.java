package dev.legate.filters.http.lua;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.filters.http.scripting.Direction;
import dev.legate.filters.http.scripting.ScriptInvocation;
import dev.legate.filters.http.scripting.ScriptStream;
import org.luaj.vm2.LuaValue;

/**
 * The Lua side of one stream (Envoy's {@code Lua::Filter}): picks the script for the stream once (the route's
 * {@code LuaPerRoute}, else the default script, at its current version), takes this event loop's state of it,
 * and makes the {@link LuaCall} of each direction. The stream protocol itself (statuses, buffering, fail-open) is
 * {@link dev.legate.filters.http.scripting.ScriptHttpFilter}'s. Confined to the stream's event loop.
 */
final class LuaFilter implements ScriptInvocation.Factory {

    private final LuaSettings settings;
    private final HttpFilterCallbacks callbacks;
    private boolean resolved;
    private LuaProgram program;
    private LuaState state;

    LuaFilter(LuaSettings settings, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // ScriptInvocation.Factory

    /**
     * @throws org.luaj.vm2.LuaError when this loop's state cannot be made (the script's top-level code fails
     *                               here): the filter counts it and fails open
     */
    @Override
    public ScriptInvocation create(Direction direction, ScriptStream stream, boolean endStream) {
        if (!resolved) {
            resolved = true;
            program = settings.programFor(callbacks.perRouteConfig(Object.class));
            if (program != null) {
                state = program.state(callbacks.dispatcher());
            }
        }
        if (state == null) {
            return null;
        }
        LuaValue entry = direction == Direction.REQUEST ? state.onRequest : state.onResponse;
        if (entry == null) {
            return null;
        }
        boolean mayWait = program.usesHttpCall || (program.usesBody && !endStream);
        return new LuaCall(state, entry, stream, direction, mayWait, settings.clearRouteCache());
    }
}
