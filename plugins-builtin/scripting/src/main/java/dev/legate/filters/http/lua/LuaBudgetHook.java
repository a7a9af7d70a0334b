package dev.legate.filters.http.lua;

import dev.legate.filters.http.scripting.CallBudget;
import org.luaj.vm2.LuaClosure;
import org.luaj.vm2.LuaFunction;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.DebugLib;

/**
 * LuaJ's instruction hook, used only to bound a call: installed as {@code Globals.debuglib} (without exposing the
 * {@code debug} library), it counts interpreter instructions and every {@link #CHECK_EVERY} of them asks the
 * worker's {@link CallBudget}, which throws {@link dev.legate.filters.http.scripting.ScriptLimitExceeded} past a
 * bound. Call and return hooks do nothing (no call-stack bookkeeping), so the cost is one virtual call and a
 * decrement per instruction.
 *
 * <p>This is why Legate runs scripts in LuaJ's interpreter and not through its LuaJC bytecode compiler: compiled
 * chunks do not call the hook, so an endless loop in them could not be stopped.
 */
final class LuaBudgetHook extends DebugLib {

    /** Instructions between two budget checks. */
    static final int CHECK_EVERY = 1024;

    private final CallBudget budget;
    private int countdown = CHECK_EVERY;

    LuaBudgetHook(CallBudget budget) {
        this.budget = budget;
    }

    CallBudget budget() {
        return budget;
    }

    /** Starts a call segment (a start or a resume). */
    void begin() {
        countdown = CHECK_EVERY;
        budget.begin();
    }

    void end() {
        budget.end();
    }

    @Override
    public void onInstruction(int pc, Varargs v, int top) {
        if (--countdown <= 0) {
            countdown = CHECK_EVERY;
            budget.check(CHECK_EVERY);
        }
    }

    @Override
    public void onCall(LuaFunction f) {
    }

    @Override
    public void onCall(LuaClosure c, Varargs varargs, org.luaj.vm2.LuaValue[] stack) {
    }

    @Override
    public void onReturn() {
    }

    @Override
    public String traceback(int level) {
        return "";
    }
}
