package dev.legate.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.Dispatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManualDispatcherTest {

    @Test
    void runsTasksInDueOrderAtTheirTime() {
        ManualDispatcher d = new ManualDispatcher(1_000);
        List<String> ran = new ArrayList<>();
        d.schedule(() -> ran.add("b@" + d.currentTimeMillis()), 2, TimeUnit.SECONDS);
        d.schedule(() -> ran.add("a@" + d.currentTimeMillis()), 1, TimeUnit.SECONDS);
        Dispatcher.Timer cancelled = d.schedule(() -> ran.add("never"), 1500, TimeUnit.MILLISECONDS);
        d.execute(() -> ran.add("now@" + d.currentTimeMillis()));
        cancelled.cancel();

        assertThat(ran).isEmpty();
        assertThat(d.pendingTasks()).isEqualTo(3);
        assertThat(d.runPending()).isEqualTo(1);
        assertThat(d.advance(1_999)).isEqualTo(1);
        assertThat(d.advance(1)).isEqualTo(1);
        assertThat(ran).containsExactly("now@1000", "a@2000", "b@3000");
        assertThat(d.currentTimeMillis()).isEqualTo(3_000);
        assertThat(d.inEventLoop()).isTrue();
        assertThat(d.nextDueInMillis()).isEqualTo(-1);
    }
}
