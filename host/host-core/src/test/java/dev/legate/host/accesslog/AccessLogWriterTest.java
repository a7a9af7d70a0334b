package dev.legate.host.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.stats.Counter;
import dev.legate.host.stats.StatsStore;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AccessLogWriterTest {

    /** A sink that holds the writer thread until released, then counts lines. */
    private static final class BlockingSink extends AccessLogWriter.Sink {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger lines = new AtomicInteger();

        BlockingSink() {
            super("blocking");
        }

        @Override
        void doWrite(String line) {
            entered.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lines.incrementAndGet();
        }

        @Override
        void doFlush() {
        }
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        AccessLogWriter writer = AccessLogWriter.get();
        StatsStore stats = new StatsStore();
        Counter dropped = stats.root().counter("access_log.dropped");
        BlockingSink sink = new BlockingSink();
        long droppedBefore = writer.droppedLines();
        try {
            writer.enqueue(sink, "first\n", dropped);
            assertThat(sink.entered.await(5, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            for (int i = 0; i < AccessLogWriter.MAX_QUEUED + 10; i++) {
                writer.enqueue(sink, "line\n", dropped);
            }
            // the writer is stuck, yet the producers never waited
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
            assertThat(stats.counter("access_log.dropped")).isEqualTo(10);
            assertThat(writer.droppedLines() - droppedBefore).isEqualTo(10);
        } finally {
            sink.release.countDown();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (sink.lines.get() < AccessLogWriter.MAX_QUEUED + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(sink.lines.get()).isEqualTo(AccessLogWriter.MAX_QUEUED + 1);
    }
}
