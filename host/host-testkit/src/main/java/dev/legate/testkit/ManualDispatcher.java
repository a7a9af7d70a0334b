package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Dispatcher} whose clock moves only when the test says so, for driving timers (idle timeouts,
 * retries' back-off) without sleeping.
 *
 * <p>{@link #execute} queues a task for "now"; {@link #schedule} queues it for now + delay. Nothing runs
 * until the test calls {@link #runPending()} or {@link #advance(long)}; tasks then run on the test's
 * thread, in due-time order (ties in submission order), with {@link #currentTimeMillis()} set to each
 * task's due time while it runs. {@link #inEventLoop()} is always {@code true}: the test thread plays the
 * event loop. Not thread-safe: call it from the test thread only.
 *
 * <pre>{@code
 * ManualDispatcher loop = new ManualDispatcher();
 * loop.schedule(() -> fired.set(true), 5, TimeUnit.SECONDS);
 * loop.advance(4_999);   // not yet
 * loop.advance(1);       // fires
 * }</pre>
 */
public final class ManualDispatcher implements Dispatcher {

    /** A bound on tasks run by one call, so that a task that re-posts itself cannot hang a test. */
    public static final int MAX_TASKS_PER_CALL = 100_000;

    private final PriorityQueue<Task> queue = new PriorityQueue<>();
    private long now;
    private long seq;

    /** A dispatcher whose clock starts at the current wall-clock time. */
    public ManualDispatcher() {
        this(System.currentTimeMillis());
    }

    /** A dispatcher whose clock starts at {@code startMillis} (milliseconds since the epoch). */
    public ManualDispatcher(long startMillis) {
        this.now = startMillis;
    }

    // Dispatcher

    @Override
    public void execute(Runnable task) {
        enqueue(task, 0);
    }

    @Override
    public Timer schedule(Runnable task, long delay, TimeUnit unit) {
        return enqueue(task, Math.max(0, unit.toMillis(delay)));
    }

    @Override
    public boolean inEventLoop() {
        return true;
    }

    /** The manual clock, in milliseconds since the epoch. */
    @Override
    public long currentTimeMillis() {
        return now;
    }

    // Test controls

    /** Runs every task due now, including tasks those tasks post for now. Returns how many ran. */
    public int runPending() {
        return advance(0);
    }

    /**
     * Moves the clock forward by {@code millis}, running each task that falls due on the way at its due
     * time. Returns how many tasks ran.
     *
     * @throws IllegalStateException when more than {@link #MAX_TASKS_PER_CALL} tasks ran (a task loop)
     */
    public int advance(long millis) {
        if (millis < 0) {
            throw new IllegalArgumentException("millis: " + millis + " (expected: >= 0)");
        }
        long target = now + millis;
        int ran = 0;
        while (!queue.isEmpty() && queue.peek().due <= target) {
            Task t = queue.poll();
            if (t.cancelled) {
                continue;
            }
            now = Math.max(now, t.due);
            t.done = true;
            t.task.run();
            if (++ran > MAX_TASKS_PER_CALL) {
                throw new IllegalStateException("more than " + MAX_TASKS_PER_CALL + " tasks in one call: a task loop?");
            }
        }
        now = target;
        return ran;
    }

    /** Tasks queued and not cancelled. */
    public int pendingTasks() {
        int n = 0;
        for (Task t : queue) {
            if (!t.cancelled) {
                n++;
            }
        }
        return n;
    }

    /** Milliseconds until the next pending task is due (0 when due now), or -1 when none is queued. */
    public long nextDueInMillis() {
        long min = Long.MAX_VALUE;
        for (Task t : queue) {
            if (!t.cancelled) {
                min = Math.min(min, t.due);
            }
        }
        return min == Long.MAX_VALUE ? -1 : Math.max(0, min - now);
    }

    private Task enqueue(Runnable task, long delayMillis) {
        Task t = new Task(requireNonNull(task, "task"), now + delayMillis, seq++);
        queue.add(t);
        return t;
    }

    private static final class Task implements Comparable<Task>, Timer {
        final Runnable task;
        final long due;
        final long seq;
        boolean cancelled;
        boolean done;

        Task(Runnable task, long due, long seq) {
            this.task = task;
            this.due = due;
            this.seq = seq;
        }

        @Override
        public void cancel() {
            if (!done) {
                cancelled = true;
            }
        }

        @Override
        public int compareTo(Task o) {
            int c = Long.compare(due, o.due);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}
