package dev.legate.filters.http.scripting;

/**
 * Per-call bounds of a script (one run of the script between two points where it waits or ends). Envoy's Lua
 * filter has none; Legate stops a runaway script so that the event loop keeps serving other connections.
 *
 * <p>What the JVM can bound honestly: the time and the instructions of one call, and the bytes the call
 * allocates (measured with {@code com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes} on platform
 * threads; not measurable on a virtual-thread carrier, where it is skipped). Memory a script <em>retains</em>
 * across calls in its per-worker state (a global table that keeps growing) is not bounded per state: the JVM
 * heap is shared and has no per-interpreter accounting.
 *
 * @param maxCallMillis          wall time of one call in milliseconds; 0 = unbounded
 * @param maxInstructions        interpreter instructions of one call (an engine that cannot count ignores it);
 *                               0 = unbounded
 * @param maxAllocatedBytes      bytes allocated by one call; 0 = unbounded
 */
public record ScriptLimits(long maxCallMillis, long maxInstructions, long maxAllocatedBytes) {

    /**
     * 200 ms, 20 million instructions, 64 MiB per call; overridable with the system properties
     * {@code legate.script.max_call_millis}, {@code legate.script.max_instructions} and
     * {@code legate.script.max_allocated_bytes}.
     */
    public static final ScriptLimits DEFAULT = new ScriptLimits(
            Long.getLong("legate.script.max_call_millis", 200),
            Long.getLong("legate.script.max_instructions", 20_000_000),
            Long.getLong("legate.script.max_allocated_bytes", 64L << 20));

    public ScriptLimits {
        if (maxCallMillis < 0 || maxInstructions < 0 || maxAllocatedBytes < 0) {
            throw new IllegalArgumentException("limits: " + maxCallMillis + ", " + maxInstructions + ", "
                    + maxAllocatedBytes + " (expected: >= 0)");
        }
    }
}
