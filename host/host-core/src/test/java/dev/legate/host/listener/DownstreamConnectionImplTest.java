package dev.legate.host.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class DownstreamConnectionImplTest {

    @Test
    void readDisableIsCountedLikeEnvoys() {
        EmbeddedChannel ch = new EmbeddedChannel();
        DownstreamConnectionImpl conn = new DownstreamConnectionImpl(ch, null, 1024);

        conn.readDisable(true);
        conn.readDisable(true);
        assertThat(ch.config().isAutoRead()).isFalse();
        conn.readDisable(false);
        assertThat(ch.config().isAutoRead()).isFalse();
        assertThat(conn.readDisableCount()).isEqualTo(1);
        conn.readDisable(false);
        assertThat(ch.config().isAutoRead()).isTrue();
        conn.readDisable(false); // an extra enable is ignored, as in Envoy
        assertThat(conn.readDisableCount()).isZero();
        assertThat(conn.bufferLimit()).isEqualTo(1024);
        ch.finishAndReleaseAll();
    }
}
