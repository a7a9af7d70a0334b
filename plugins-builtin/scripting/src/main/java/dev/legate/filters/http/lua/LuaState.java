package dev.legate.filters.http.lua;

import dev.legate.api.Dispatcher;
import dev.legate.filters.http.scripting.CallBudget;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LoadState;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.VarArgFunction;
import org.luaj.vm2.compiler.LuaC;
import org.luaj.vm2.lib.Bit32Lib;
import org.luaj.vm2.lib.CoroutineLib;
import org.luaj.vm2.lib.PackageLib;
import org.luaj.vm2.lib.StringLib;
import org.luaj.vm2.lib.TableLib;
import org.luaj.vm2.lib.jse.JseBaseLib;
import org.luaj.vm2.lib.jse.JseMathLib;
import org.luaj.vm2.lib.jse.JseOsLib;

/**
 * One event loop's Lua state for one {@link LuaProgram} (Envoy's per-worker {@code lua_State}): LuaJ
 * {@link Globals} with the standard libraries minus what could block the event loop or end the process
 * ({@link #sandbox}; no {@code luajava} either: scripts cannot reach Java), the Lua 5.1/LuaJIT
 * globals Envoy scripts use ({@link LuaCompat}), the budget hook, the handle metatables, and the script's
 * {@code envoy_on_request}/{@code envoy_on_response} after its top-level code ran once.
 *
 * <p>Used by one event loop and its script carriers, one at a time (see
 * {@link dev.legate.filters.http.scripting.ScriptCarrier}). Module-level tables persist across the loop's streams,
 * as in Envoy.
 */
final class LuaState {

    final LuaProgram program;
    final Globals globals;
    final LuaBudgetHook hook;
    final LuaHandles handles;
    /** {@code envoy_on_request}, or {@code null} when the script has none. */
    final LuaValue onRequest;
    /** {@code envoy_on_response}, or {@code null} when the script has none. */
    final LuaValue onResponse;
    /** For carrier thread names. */
    final String name;
    private long calls;

    /**
     * Makes the state and runs the script's top-level code in it.
     *
     * @param dispatcher the loop, or {@code null} for the config-time check
     * @throws LuaError when the top-level code fails
     */
    LuaState(LuaProgram program, Dispatcher dispatcher) {
        this.program = program;
        this.name = program.source.name();
        globals = new Globals();
        globals.load(new JseBaseLib());
        globals.load(new PackageLib()); // the other libraries register in package.loaded; sandbox() drops it
        globals.load(new Bit32Lib());
        globals.load(new TableLib());
        globals.load(new StringLib());
        globals.load(new CoroutineLib());
        globals.load(new JseMathLib());
        globals.load(new JseOsLib());
        sandbox(globals);
        LoadState.install(globals);
        LuaC.install(globals);
        LuaCompat.install(globals);
        org.luaj.vm2.LuaTable resolution = new org.luaj.vm2.LuaTable();
        resolution.set("MILLISECOND", 0);
        resolution.set("MICROSECOND", 1);
        globals.set("EnvoyTimestampResolution", resolution);
        hook = new LuaBudgetHook(new CallBudget(program.limits));
        globals.debuglib = hook;
        handles = new LuaHandles();
        LuaClosure chunk = new LuaClosure(program.prototype, globals);
        hook.begin();
        try {
            chunk.call();
        } finally {
            hook.end();
        }
        onRequest = function(globals.get("envoy_on_request"));
        onResponse = function(globals.get("envoy_on_response"));
    }

    /** The {@code os} functions a script keeps: pure, never blocking, never ending the process. */
    static final String[] OS_FUNCTIONS = {"time", "clock", "date", "difftime", "getenv"};

    /**
     * Takes out of {@code globals} what could block the event loop or end the process: {@code dofile} and
     * {@code loadfile} and {@code require}/{@code package} (file reads; there is no {@code io} library either),
     * and every {@code os} function but {@link #OS_FUNCTIONS} ({@code os.exit} would call {@code System.exit},
     * {@code os.execute} run a process, {@code os.remove}/{@code rename}/{@code tmpname} touch files). What stays
     * is computation: {@code string}, {@code table}, {@code math}, {@code bit32}/{@code bit}, {@code coroutine}
     * (LuaJ runs each coroutine on a platform thread of its own, so they cost a thread each), {@code load} of a
     * string, {@code os.time}/{@code clock}/{@code date}/{@code difftime}/{@code getenv}, and {@code print} (to
     * standard output, as Envoy's LuaJIT does). {@code collectgarbage} does nothing and answers 0: in the JVM it
     * would be {@code System.gc()}, which pauses every event loop.
     */
    static void sandbox(Globals globals) {
        globals.set("collectgarbage", new VarArgFunction() {
            @Override
            public Varargs invoke(Varargs args) {
                return LuaValue.valueOf(0);
            }
        });
        globals.set("dofile", LuaValue.NIL);
        globals.set("loadfile", LuaValue.NIL);
        globals.set("require", LuaValue.NIL);
        globals.set("package", LuaValue.NIL);
        LuaValue full = globals.get("os");
        LuaTable os = new LuaTable();
        for (String name : OS_FUNCTIONS) {
            os.set(name, full.get(name));
        }
        globals.set("os", os);
    }

    private static LuaValue function(LuaValue v) {
        return v.isfunction() ? v : null;
    }

    /** A name for the next carrier thread. */
    String nextCarrierName() {
        return "lua-" + (++calls);
    }

    CallBudget budget() {
        return hook.budget();
    }

    /** A Lua error's message as Lua prints it: {@code /etc/x.lua:3: attempt to ...}, no traceback. */
    static String message(LuaError e) {
        String m = e.getMessage();
        if (m == null) {
            return "error";
        }
        m = m.strip();
        if (m.startsWith("@")) {
            m = m.substring(1);
        }
        // LuaJ writes "<file>:<line> <message>" for runtime errors; Lua writes "<file>:<line>: <message>".
        return m.replaceFirst("^(\\S+?:\\d+) (?!\\S+?:\\d+:)", "$1: ");
    }
}
