package dev.legate.host.upstream;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * An upstream HTTP connection's idle timer ({@code common_http_protocol_options.idle_timeout}, Envoy's
 * {@code CodecClient} idle timer, source/common/http/codec_client.cc): armed while the connection carries no
 * stream, disarmed when a stream starts or the connection closes. Confined to the pool's loop.
 */
final class IdleTimer {

    private final EventLoop loop;
    private final long millis;
    private final Runnable onTimeout;
    private ScheduledFuture<?> timer;

    /**
     * @param millis the idle timeout in milliseconds; 0 disables the timer
     * @param onTimeout runs on {@code loop} when the timer fires; the connection checks it is still idle
     */
    IdleTimer(EventLoop loop, long millis, Runnable onTimeout) {
        this.loop = loop;
        this.millis = millis;
        this.onTimeout = onTimeout;
    }

    /** Arms the timer unless it is disabled or already armed. */
    void start() {
        if (millis > 0 && timer == null) {
            timer = loop.schedule(this::fire, millis, TimeUnit.MILLISECONDS);
        }
    }

    /** Disarms the timer (no-op when it is not armed). */
    void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void fire() {
        timer = null;
        onTimeout.run();
    }
}
