package dev.legate.api.network;

/**
 * Back-pressure signals for a write buffer (Envoy's watermark callbacks): the buffer went above its high
 * watermark (limit) or back below its low watermark (limit / 2). Called on the buffer's event loop, each
 * "above" followed by exactly one "below" before the next "above".
 */
public interface WatermarkCallbacks {
    void onAboveWriteBufferHighWatermark();

    void onBelowWriteBufferLowWatermark();
}
