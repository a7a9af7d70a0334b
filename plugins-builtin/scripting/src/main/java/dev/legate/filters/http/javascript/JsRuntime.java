package dev.legate.filters.http.javascript;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.graalvm.polyglot.Context;
import org.graalvm.polyglot.Engine;
import org.graalvm.polyglot.HostAccess;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's GraalVM JavaScript runtime: one shared {@link Engine} (parsed code is cached in it once for
 * every context), the factory of {@link Context}s, and the watchdog that bounds each call into a script.
 *
 * <p>A {@code Context} refuses use by two threads at once, so the filter keeps one per worker event loop and
 * script ({@link JsScriptState}); the engine is shared. Which runtime runs is decided by the JVM the launcher
 * starts: with the Graal compiler on the upgrade module path and JVMCI enabled the engine is the optimizing
 * Truffle runtime, otherwise it interprets. The first use logs {@code JavaScript runtime: optimizing (...)} or
 * {@code JavaScript runtime: interpreter (...)}.
 *
 * <p>Memory: GraalVM Community cannot bound a context's heap ({@code sandbox.MaxHeapMemory} is Oracle GraalVM
 * only); what this runtime bounds is the CPU time and the allocation of one call ({@link Watch}).
 *
 * <p>Thread-safe.
 */
final class JsRuntime {

    private static final Logger log = LoggerFactory.getLogger(JsRuntime.class);

    /** The language id. */
    static final String JS = "js";

    private static final com.sun.management.ThreadMXBean THREADS = threadBean();

    private static volatile JsRuntime instance;

    /** The process-wide runtime, built on first use (0.2–1 s). */
    static JsRuntime get() {
        JsRuntime r = instance;
        if (r == null) {
            synchronized (JsRuntime.class) {
                r = instance;
                if (r == null) {
                    r = new JsRuntime();
                    instance = r;
                }
            }
        }
        return r;
    }

    private final Engine engine;
    private final boolean optimizing;
    private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
    private final Thread watchdog;

    private JsRuntime() {
        long start = System.nanoTime();
        // The context class loader must see Truffle's languages: they are on the host's class path (lib/),
        // which is the parent of this plugin's class loader.
        Thread current = Thread.currentThread();
        ClassLoader saved = current.getContextClassLoader();
        current.setContextClassLoader(Engine.class.getClassLoader());
        try {
            engine = Engine.newBuilder(JS)
                    .option("engine.WarnInterpreterOnly", "false")
                    .build();
        } finally {
            current.setContextClassLoader(saved);
        }
        String impl = engine.getImplementationName();
        optimizing = !"Interpreted".equalsIgnoreCase(impl);
        log.info("JavaScript runtime: {} (Truffle runtime: {}; engine built in {} ms)",
                optimizing ? "optimizing" : "interpreter", impl,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        if (!optimizing && "optimizing".equals(System.getProperty("legate.js.runtime"))) {
            // ./legate put the Graal compiler on the upgrade module path, but Truffle did not take it.
            log.warn("JavaScript runtime: the launcher asked for the optimizing runtime, but GraalVM runs interpreted"
                    + " (a JVMCI/compiler version mismatch?); set LEGATE_JS_RUNTIME=interpreter to skip the attempt");
        }
        watchdog = Thread.ofPlatform().daemon().name("legate-js-watchdog").unstarted(this::watchLoop);
        watchdog.start();
    }

    /** Whether the optimizing Truffle runtime compiles scripts (else they run interpreted). */
    boolean optimizing() {
        return optimizing;
    }

    /**
     * A new context on the shared engine. Host access is limited to members annotated
     * {@link HostAccess.Export} (the handle objects); no I/O, threads, native access or class lookup.
     * Confine it to one thread.
     */
    Context newContext() {
        Thread current = Thread.currentThread();
        ClassLoader saved = current.getContextClassLoader();
        current.setContextClassLoader(Engine.class.getClassLoader());
        try {
            return Context.newBuilder(JS)
                    .engine(engine)
                    .allowHostAccess(HostAccess.EXPLICIT)
                    .build();
        } finally {
            current.setContextClassLoader(saved);
        }
    }

    /**
     * A watch for the calls of one context; {@link Watch#close()} unregisters it.
     *
     * @param timeoutNanos      wall time of one call
     * @param maxAllocatedBytes bytes one call may allocate on its thread; 0 = unbounded
     */
    Watch watch(Context context, long timeoutNanos, long maxAllocatedBytes) {
        Watch w = new Watch(context, timeoutNanos, maxAllocatedBytes);
        watches.add(w);
        return w;
    }

    private void watchLoop() {
        while (true) {
            try {
                long tick = Long.MAX_VALUE;
                for (Watch w : watches) {
                    tick = Math.min(tick, w.timeoutNanos);
                    w.check();
                }
                // Check four times per the shortest timeout (at least every 1 ms, at most every 50 ms).
                long sleep = Math.max(TimeUnit.MILLISECONDS.toNanos(1),
                        Math.min(TimeUnit.MILLISECONDS.toNanos(50), tick / 4));
                TimeUnit.NANOSECONDS.sleep(sleep);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("JavaScript watchdog: {}", e.toString());
            }
        }
    }

    /**
     * The call bound of one context. The owning thread marks {@link #enter()} / {@link #exit()} around each call
     * (a counter and a flag, no clock read); the watchdog thread samples the running call's thread and interrupts
     * it ({@link Context#interrupt}) when, since the watchdog first saw that call, the thread used more than the
     * timeout of CPU time or allocated more than the bound, or when the call ran ten timeouts of wall time (a
     * backstop: a busy machine slows a call down without it being at fault). The script then sees an uncatchable
     * interruption and the caller a {@code PolyglotException} with {@code isInterrupted()}; the context stays
     * usable. Checked every quarter timeout (1..50 ms), so a call may overrun by up to one check interval.
     */
    final class Watch implements AutoCloseable {
        private final Context context;
        private final long timeoutNanos;
        private final long maxAllocatedBytes;
        private volatile long seq;
        private volatile boolean running;
        private volatile Thread thread;
        private volatile String fired;
        // Watchdog thread only: what it saw of the current call.
        private long seenSeq = -1;
        private long seenAt;
        private long seenCpu;
        private long seenAllocated;

        private Watch(Context context, long timeoutNanos, long maxAllocatedBytes) {
            this.context = requireNonNull(context, "context");
            if (timeoutNanos <= 0) {
                throw new IllegalArgumentException("timeoutNanos: " + timeoutNanos + " (expected: > 0)");
            }
            this.timeoutNanos = timeoutNanos;
            this.maxAllocatedBytes = THREADS == null ? 0 : maxAllocatedBytes;
        }

        /** Marks the start of a call; owning thread only. A nested call (re-entry) returns false. */
        boolean enter() {
            if (running) {
                return false;
            }
            fired = null;
            Thread t = Thread.currentThread();
            if (thread != t) {
                thread = t;
            }
            seq = seq + 1;
            running = true;
            return true;
        }

        /** Marks the end of a call started by an {@link #enter()} that returned true; owning thread only. */
        void exit() {
            running = false;
        }

        /**
         * Why the watchdog interrupted the last call ({@code script exceeded 100 ms in one call}), or {@code null}.
         */
        String fired() {
            return fired;
        }

        private void check() {
            if (!running || fired != null) {
                return;
            }
            long call = seq;
            long tid = thread.threadId();
            long now = System.nanoTime();
            long cpu = THREADS != null ? THREADS.getThreadCpuTime(tid) : -1;
            long allocated = maxAllocatedBytes > 0 ? THREADS.getThreadAllocatedBytes(tid) : 0;
            if (call != seenSeq) {
                seenSeq = call;
                seenAt = now;
                seenCpu = cpu;
                seenAllocated = allocated;
                return;
            }
            String reason = null;
            long ms = TimeUnit.NANOSECONDS.toMillis(timeoutNanos);
            if (cpu >= 0 && seenCpu >= 0 ? cpu - seenCpu >= timeoutNanos : now - seenAt >= timeoutNanos) {
                reason = "script exceeded " + ms + " ms in one call";
            } else if (now - seenAt >= 10 * timeoutNanos) {
                reason = "script exceeded " + ms + " ms in one call (" + 10 * ms + " ms of wall time)";
            } else if (maxAllocatedBytes > 0 && allocated - seenAllocated > maxAllocatedBytes) {
                reason = "script allocated more than " + maxAllocatedBytes + " bytes in one call";
            }
            if (reason == null || !running || seq != call) {
                return;
            }
            fired = reason;
            try {
                // Waits until the running call has left the script (the owning thread unwinds).
                context.interrupt(Duration.ofSeconds(1));
            } catch (java.util.concurrent.TimeoutException e) {
                log.warn("JavaScript call not interrupted within 1 s");
            } catch (IllegalStateException e) {
                // closed meanwhile
            }
        }

        @Override
        public void close() {
            watches.remove(this);
        }
    }

    private static com.sun.management.ThreadMXBean threadBean() {
        try {
            if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported()) {
                t.setThreadAllocatedMemoryEnabled(true);
                if (t.isThreadCpuTimeSupported()) {
                    t.setThreadCpuTimeEnabled(true);
                }
                return t;
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot: allocation is not bounded
        }
        return null;
    }
}
