package dev.legate.filters.http.fault;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.api.http.HttpFilterCallbacks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Paces one stream's response body at a fixed KiB/s (Envoy's {@code StreamRateLimiter},
 * source/extensions/filters/http/common/stream_rate_limiter.cc, with its token bucket
 * source/common/common/token_bucket_impl.cc).
 *
 * <p>The filter hands every response chunk to {@link #writeData} and returns {@code STOP_ITERATION_NO_BUFFER};
 * the limiter keeps the bytes and releases them from a dispatcher timer every {@value #FILL_INTERVAL_MILLIS} ms
 * through {@link HttpFilterCallbacks#injectEncodedDataToFilterChain}. The token bucket holds at most one second of
 * bytes ({@code kbps * 1024}), refills at that rate and starts with one fill interval's worth, so the first slice
 * leaves at once and a burst never exceeds one second of the rate. Trailers wait until the body drained
 * ({@link #onTrailers}), then go on through {@link HttpFilterCallbacks#continueEncoding()}.
 *
 * <p>Flow control: past {@link HttpFilterCallbacks#bufferLimit()} bytes held the limiter calls
 * {@code onEncoderFilterAboveWriteBufferHighWatermark} (the router stops reading the upstream), and at half of it
 * {@code onEncoderFilterBelowWriteBufferLowWatermark} (Envoy's {@code WatermarkBuffer}).
 *
 * <p>Confined to the stream's event loop. Buffer ownership: chunks given to {@link #writeData} are borrowed (the
 * limiter keeps a retained slice); {@link #destroy()} releases whatever is still held.
 */
final class StreamRateLimiter {

    /** Envoy's {@code StreamRateLimiter::DefaultFillInterval}. */
    static final long FILL_INTERVAL_MILLIS = 50;

    private final HttpFilterCallbacks callbacks;
    private final Dispatcher dispatcher;
    private final double maxTokens;
    private final long highWatermark;
    private double tokens;
    private long lastFillMillis;
    /** Retained slices of the chunks taken, oldest first; {@code buffered} counts their readable bytes. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    private long buffered;
    private Dispatcher.Timer timer;
    private boolean sawEndStream;
    private boolean sawTrailers;
    private boolean aboveHighWatermark;
    private boolean destroyed;

    /**
     * @param kbps      the rate in KiB/s, at least 1
     * @param callbacks the fault filter's callbacks: dispatcher, buffer limit, injection, watermarks
     */
    StreamRateLimiter(long kbps, HttpFilterCallbacks callbacks) {
        if (kbps < 1) {
            throw new IllegalArgumentException("kbps: " + kbps + " (expected: >= 1)");
        }
        this.callbacks = requireNonNull(callbacks, "callbacks");
        this.dispatcher = callbacks.dispatcher();
        this.maxTokens = kbps * 1024.0;
        this.highWatermark = callbacks.bufferLimit();
        this.tokens = maxTokens * FILL_INTERVAL_MILLIS / 1000;
        this.lastFillMillis = dispatcher.currentTimeMillis();
    }

    /**
     * Takes a response chunk.
     *
     * @param data borrowed: the limiter keeps a retained slice of its readable bytes
     */
    void writeData(ByteBuf data, boolean endStream) {
        if (destroyed) {
            return;
        }
        if (data.isReadable()) {
            buffered += data.readableBytes();
            held.add(data.retainedSlice());
        }
        sawEndStream = endStream;
        if (highWatermark > 0 && !aboveHighWatermark && buffered() > highWatermark) {
            aboveHighWatermark = true;
            callbacks.onEncoderFilterAboveWriteBufferHighWatermark();
        }
        if (timer == null) {
            // As Envoy: release after the current callback returned, so that the end of the stream can be
            // carried by the last slice rather than by this (possibly partial) chunk.
            timer = dispatcher.schedule(this::onTokenTimer, 0, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * The response trailers arrived.
     *
     * @return whether they must wait (body still held); then the limiter continues encoding once it drained
     */
    boolean onTrailers() {
        sawEndStream = true;
        sawTrailers = true;
        return buffered() > 0;
    }

    /** Response bytes held now. */
    long buffered() {
        return buffered;
    }

    /** Stops the timer and releases what is held; idempotent. Called from the filter's {@code onDestroy}. */
    void destroy() {
        destroyed = true;
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        for (ByteBuf b; (b = held.poll()) != null; ) {
            b.release();
        }
        buffered = 0;
    }

    private void onTokenTimer() {
        timer = null;
        if (destroyed) {
            return;
        }
        long n = consume(buffered);
        ByteBuf out = take(n);
        long left = buffered;
        if (aboveHighWatermark && left <= highWatermark / 2) {
            aboveHighWatermark = false;
            callbacks.onEncoderFilterBelowWriteBufferLowWatermark();
            if (destroyed) {
                out.release();
                return;
            }
        }
        if (left > 0) {
            timer = dispatcher.schedule(this::onTokenTimer, FILL_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        }
        boolean end = sawEndStream && left == 0 && !sawTrailers;
        if (n > 0 || end) {
            // May complete the stream: the filter's onDestroy (and our destroy()) can run inside.
            callbacks.injectEncodedDataToFilterChain(out, end);
        }
        if (!destroyed && left == 0 && sawTrailers) {
            callbacks.continueEncoding();
        }
    }

    /** Removes the first {@code n} held bytes: one slice, or a composite of slices across chunks. */
    private ByteBuf take(long n) {
        if (n == 0) {
            return Unpooled.EMPTY_BUFFER;
        }
        buffered -= n;
        ByteBuf first = held.peek();
        if (first.readableBytes() > n) {
            return first.readRetainedSlice((int) n);
        }
        if (first.readableBytes() == n) {
            return held.poll(); // the whole chunk: its reference moves to the caller
        }
        CompositeByteBuf out = first.alloc().compositeBuffer(Integer.MAX_VALUE);
        while (n > 0) {
            ByteBuf head = held.peek();
            int k = (int) Math.min(n, head.readableBytes());
            out.addComponent(true, head.readRetainedSlice(k));
            if (!head.isReadable()) {
                held.poll().release();
            }
            n -= k;
        }
        return out;
    }

    /** Takes up to {@code wanted} tokens (bytes) from the bucket after refilling it for the time passed. */
    private long consume(long wanted) {
        long now = dispatcher.currentTimeMillis();
        long elapsed = Math.max(0, now - lastFillMillis);
        lastFillMillis = now;
        tokens = Math.min(maxTokens, tokens + elapsed * maxTokens / 1000);
        long got = Math.min(wanted, (long) Math.floor(tokens));
        tokens -= got;
        return got;
    }
}
