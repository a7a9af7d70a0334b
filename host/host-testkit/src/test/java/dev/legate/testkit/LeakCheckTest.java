package dev.legate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** LeakCheck finds a buffer that was dropped without release, and nothing when all were released. */
class LeakCheckTest {

    @Test
    void reportsADroppedBufferAndNothingAfterwards() throws Exception {
        new LeakCheck(); // installs the recording detector
        LeakCheck.collectLeaks(200);

        leak();
        boolean found = false;
        for (int i = 0; i < 10 && !found; i++) {
            found = LeakCheck.collectLeaks(1_000).stream().anyMatch(s -> s.contains("LEAK: ByteBuf"));
        }
        assertThat(found).as("the dropped buffer was reported").isTrue();

        ByteBuf fine = PooledByteBufAllocator.DEFAULT.buffer(8).writeLong(1);
        fine.release();
        assertThat(LeakCheck.collectLeaks(300)).isEmpty();
    }

    private static void leak() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        b.writeLong(42);
        b.touch("dropped on purpose by LeakCheckTest");
    }
}
