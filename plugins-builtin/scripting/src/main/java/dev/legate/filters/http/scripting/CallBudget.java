package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import java.lang.management.ManagementFactory;

/**
 * The per-call bookkeeping of {@link ScriptLimits} for one worker's script state. One call runs at a time per
 * state (the event loop or its carrier, never both), so the budget is a plain mutable object confined to that
 * hand-off.
 *
 * <p>Use: {@link #begin()} before the engine runs script code (a start or a resume), {@link #check(long)} from
 * the engine's instruction hook every few thousand instructions, {@link #end()} after. Once exceeded the budget
 * stays exceeded until the next {@code begin()}, so a script that catches the error trips again at the next check.
 */
public final class CallBudget {

    private static final com.sun.management.ThreadMXBean THREADS = threadBean();

    private final ScriptLimits limits;
    private final long maxTimeNanos;
    private long deadlineNanos;
    private long instructions;
    private long allocatedAtStart = -1;
    private Thread allocationThread;
    private String exceeded;

    public CallBudget(ScriptLimits limits) {
        this.limits = requireNonNull(limits, "limits");
        this.maxTimeNanos = limits.maxCallMillis() * 1_000_000L;
    }

    public ScriptLimits limits() {
        return limits;
    }

    /** Starts a call segment on the current thread. */
    public void begin() {
        exceeded = null;
        instructions = 0;
        deadlineNanos = maxTimeNanos > 0 ? System.nanoTime() + maxTimeNanos : 0;
        allocationThread = Thread.currentThread();
        allocatedAtStart = limits.maxAllocatedBytes() > 0 && THREADS != null
                && !allocationThread.isVirtual() ? THREADS.getCurrentThreadAllocatedBytes() : -1;
    }

    /**
     * Adds {@code executed} instructions and checks every bound.
     *
     * @throws ScriptLimitExceeded naming the bound, e.g. {@code script exceeded 20000000 instructions in one call}
     */
    public void check(long executed) {
        if (exceeded != null) {
            throw new ScriptLimitExceeded(exceeded);
        }
        instructions += executed;
        if (limits.maxInstructions() > 0 && instructions > limits.maxInstructions()) {
            exceed("script exceeded " + limits.maxInstructions() + " instructions in one call");
        }
        if (deadlineNanos != 0 && System.nanoTime() - deadlineNanos > 0) {
            exceed("script exceeded " + limits.maxCallMillis() + " ms in one call");
        }
        if (allocatedAtStart >= 0 && Thread.currentThread() == allocationThread
                && THREADS.getCurrentThreadAllocatedBytes() - allocatedAtStart > limits.maxAllocatedBytes()) {
            exceed("script allocated more than " + limits.maxAllocatedBytes() + " bytes in one call");
        }
    }

    /** Ends a call segment. */
    public void end() {
        deadlineNanos = 0;
        allocatedAtStart = -1;
        allocationThread = null;
    }

    /** Whether the current segment passed a bound. */
    public boolean isExceeded() {
        return exceeded != null;
    }

    private void exceed(String message) {
        exceeded = message;
        throw new ScriptLimitExceeded(message);
    }

    private static com.sun.management.ThreadMXBean threadBean() {
        try {
            if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported()) {
                t.setThreadAllocatedMemoryEnabled(true);
                return t;
            }
        } catch (RuntimeException | LinkageError e) {
            // not a HotSpot JVM: allocation is not bounded
        }
        return null;
    }
}
