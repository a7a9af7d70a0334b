package dev.legate.testkit;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JUnit 5 extension that fails a test class when Netty's leak detector reports a {@code ByteBuf} that was
 * garbage-collected without being released.
 *
 * <pre>{@code
 * @ExtendWith(LeakCheck.class)
 * class MyFilterTest { ... }
 * }</pre>
 *
 * <p>How: before the class, the detector is set to {@code PARANOID} (every buffer tracked) and a recording
 * {@link ResourceLeakDetectorFactory} is installed (or, when the buffer classes were already initialised in
 * this JVM, a leak listener is attached to the existing detector). After the class, it runs
 * {@code System.gc()} a few times and allocates and releases buffers, which is what makes Netty report
 * collected leaks, for at most {@link #DRAIN_MILLIS} ms; any report recorded since the class started fails
 * it with the leak's access records.
 *
 * <p>Limits: a leak is found only once its buffer is collected, so a leak from one class may be reported
 * while the next class runs (it then fails that one: look at the records, not only the class name). Netty
 * reports the same access records once per detector.
 */
public final class LeakCheck implements BeforeAllCallback, AfterAllCallback {

    /** Upper bound of the time spent provoking reports after a class. */
    public static final long DRAIN_MILLIS = 1_000;

    private static final Logger log = LoggerFactory.getLogger(LeakCheck.class);
    private static final List<String> LEAKS = new ArrayList<>();
    private static volatile boolean hooked;

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
    }

    // BeforeAllCallback

    @Override
    public void beforeAll(ExtensionContext context) {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        hookByteBufDetector();
        synchronized (LEAKS) {
            LEAKS.clear();
        }
    }

    // AfterAllCallback

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        List<String> found = collectLeaks(DRAIN_MILLIS);
        if (!found.isEmpty()) {
            throw new AssertionError(found.size() + " ByteBuf leak(s) reported by Netty's leak detector while "
                    + context.getDisplayName() + " ran:\n" + String.join("\n----\n", found));
        }
    }

    /**
     * Runs {@code System.gc()} and allocates and releases buffers until a leak is reported or
     * {@code maxMillis} passed (at most five rounds), then returns and forgets the leaks recorded so far.
     * For tests that check leaks themselves, without the extension.
     */
    public static List<String> collectLeaks(long maxMillis) throws InterruptedException {
        hookByteBufDetector();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        for (int round = 0; round < 5 && System.nanoTime() < deadline; round++) {
            System.gc();
            Thread.sleep(20);
            provokeReports();
            synchronized (LEAKS) {
                if (!LEAKS.isEmpty()) {
                    break;
                }
            }
        }
        synchronized (LEAKS) {
            List<String> found = new ArrayList<>(LEAKS);
            LEAKS.clear();
            return found;
        }
    }

    /** The leaks recorded and not yet reported by {@link #afterAll}; for tests of this class. */
    public static List<String> recordedLeaks() {
        synchronized (LEAKS) {
            return List.copyOf(LEAKS);
        }
    }

    private static void provokeReports() {
        // Netty polls its reference queue when it starts tracking a new buffer.
        for (ByteBufAllocator alloc : new ByteBufAllocator[] {PooledByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT}) {
            for (int i = 0; i < 64; i++) {
                ByteBuf b = alloc.buffer(16);
                b.release();
                ByteBuf d = alloc.directBuffer(16);
                d.release();
            }
        }
    }

    private static void record(String resourceType, String records) {
        synchronized (LEAKS) {
            LEAKS.add("LEAK: " + resourceType + (records == null || records.isEmpty()
                    ? " (no access records; run with -Dio.netty.leakDetection.level=PARANOID)" : records));
        }
    }

    /** When AbstractByteBuf was initialised before our factory was installed, listen on its detector. */
    private static void hookByteBufDetector() {
        if (hooked) {
            return;
        }
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            Object detector = f.get(null);
            if (detector instanceof ResourceLeakDetector<?> d && !(detector instanceof RecordingDetector<?>)) {
                d.setLeakListener(LeakCheck::record);
            }
            hooked = true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("LeakCheck: cannot reach Netty's ByteBuf leak detector ({}); leaks of buffers made before "
                    + "this class loaded may go unnoticed", e.toString());
            hooked = true;
        }
    }

    private static final class RecordingFactory extends ResourceLeakDetectorFactory {
        @Override
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval) {
            return new RecordingDetector<>(resource, samplingInterval);
        }

        /** Abstract in Netty, though deprecated: the same as the two-argument form. */
        @Override
        @SuppressWarnings("deprecation")
        public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                                   long maxActive) {
            return new RecordingDetector<>(resource, samplingInterval);
        }
    }

    private static final class RecordingDetector<T> extends ResourceLeakDetector<T> {
        RecordingDetector(Class<T> resource, int samplingInterval) {
            super(resource, samplingInterval);
        }

        @Override
        protected boolean needReport() {
            return true;
        }

        @Override
        protected void reportTracedLeak(String resourceType, String records) {
            record(resourceType, records);
            super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
            record(resourceType, "");
            super.reportUntracedLeak(resourceType);
        }
    }
}
