package dev.legate.filters.http.scripting;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The hand-off between an event loop and a script on a virtual thread. */
@Timeout(10)
class ScriptCarrierTest {

    @Test
    void loopAndScriptTakeStrictTurns() {
        List<String> log = new CopyOnWriteArrayList<>();
        ScriptCarrier[] self = new ScriptCarrier[1];
        self[0] = new ScriptCarrier("t", () -> {
            log.add("script 1");
            self[0].suspend();
            log.add("script 2");
            self[0].suspend();
            log.add("script 3");
        });
        assertThat(self[0].resume()).isFalse();
        log.add("loop 1");
        assertThat(self[0].resume()).isFalse();
        log.add("loop 2");
        assertThat(self[0].resume()).isTrue();
        assertThat(log).containsExactly("script 1", "loop 1", "script 2", "loop 2", "script 3");
        assertThat(self[0].failure()).isNull();
    }

    @Test
    void callOnLoopRunsOnTheResumingThread() {
        Thread loop = Thread.currentThread();
        ScriptCarrier[] self = new ScriptCarrier[1];
        Thread[] seen = new Thread[2];
        self[0] = new ScriptCarrier("t", () -> {
            seen[0] = Thread.currentThread();
            seen[1] = self[0].callOnLoop(Thread::currentThread);
            assertThat(ScriptCarrier.current()).isSameAs(self[0]);
        });
        assertThat(self[0].resume()).isTrue();
        assertThat(seen[0].isVirtual()).isTrue();
        assertThat(seen[1]).isSameAs(loop);
        assertThat(ScriptCarrier.current()).isNull();
        assertThat(self[0].failure()).isNull();
    }

    @Test
    void cancelUnwindsASuspendedScript() {
        List<String> log = new CopyOnWriteArrayList<>();
        ScriptCarrier[] self = new ScriptCarrier[1];
        self[0] = new ScriptCarrier("t", () -> {
            try {
                self[0].suspend();
                log.add("resumed");
            } finally {
                log.add("unwound");
            }
        });
        self[0].resume();
        self[0].cancel();
        assertThat(self[0].isFinished()).isTrue();
        assertThat(log).containsExactly("unwound");
        assertThat(self[0].failure()).isNull();
    }

    @Test
    void cancelInsideALoopCallDoesNotDeadlock() {
        // The stream ends inside a host call the script made (respond() completes the stream).
        ScriptCarrier[] self = new ScriptCarrier[1];
        List<String> log = new CopyOnWriteArrayList<>();
        self[0] = new ScriptCarrier("t", () -> {
            self[0].callOnLoop(() -> {
                self[0].cancel();
                return null;
            });
            log.add("after call");
            self[0].suspend();
            log.add("never");
        });
        assertThat(self[0].resume()).isTrue();
        assertThat(log).containsExactly("after call");
    }

    @Test
    void scriptFailureIsKept() {
        ScriptCarrier c = new ScriptCarrier("t", () -> {
            throw new IllegalStateException("boom");
        });
        assertThat(c.resume()).isTrue();
        assertThat(c.failure()).hasMessage("boom");
    }
}
