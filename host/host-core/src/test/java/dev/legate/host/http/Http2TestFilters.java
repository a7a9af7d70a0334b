package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterChainEntry;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real filters for the HTTP/2 socket tests: a watermark hold and an echo that also echoes trailers. */
final class Http2TestFilters {

    private Http2TestFilters() {
    }

    /** local (from {@link TestFilters}) → hold → echo (terminal). */
    static List<HttpFilterChainEntry> chain() {
        return List.of(
                new HttpFilterChainEntry("test.local", TestFilters.LocalReplyFilter::new, false),
                new HttpFilterChainEntry("test.hold", HoldFilter::new, false),
                new HttpFilterChainEntry("test.echo2", EchoFilter::new, true));
    }

    /**
     * With {@code x-hold: <ms>}: stops all iteration with watermark buffering (over the buffer limit the stream
     * is read-disabled) and continues after that many milliseconds.
     */
    static final class HoldFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;
        private Dispatcher.Timer timer;

        HoldFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            String hold = headers.get("x-hold");
            if (hold == null) {
                return FilterHeadersStatus.CONTINUE;
            }
            timer = cb.dispatcher().schedule(() -> {
                timer = null;
                cb.continueDecoding();
            }, Long.parseLong(hold), TimeUnit.MILLISECONDS);
            return FilterHeadersStatus.STOP_ALL_ITERATION_AND_WATERMARK;
        }

        @Override
        public void onDestroy() {
            if (timer != null) {
                timer.cancel();
            }
        }
    }

    /**
     * Terminal: answers at once with the request's head echoed in {@code x-echo-*} headers ({@code 101} with
     * {@code upgrade} when the request asks for an upgrade), echoes the body, and ends with trailers
     * {@code x-trailer-echo} when the request had trailers. {@code /wait} never answers; {@code /trailers}
     * answers "ok" with trailers {@code grpc-status: 0}.
     */
    static final class EchoFilter implements HttpFilter {
        /** {@code /stream/<n>}: bytes written so far, and how often the downstream went above its watermark. */
        static final java.util.concurrent.atomic.AtomicLong STREAMED = new java.util.concurrent.atomic.AtomicLong();
        static final java.util.concurrent.atomic.AtomicInteger ABOVE = new java.util.concurrent.atomic.AtomicInteger();

        private final HttpFilterCallbacks cb;
        private boolean waiting;
        private long toStream;
        private boolean paused;
        private boolean destroyed;

        EchoFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            if (headers.path() != null && headers.path().startsWith("/wait")) {
                waiting = true;
                return FilterHeadersStatus.STOP_ITERATION;
            }
            HeaderMap resp = cb.newHeaderMap();
            String upgrade = headers.get("upgrade");
            resp.set(HeaderMap.STATUS, upgrade != null ? "101" : "200");
            if (upgrade != null) {
                resp.set("upgrade", upgrade);
                resp.set("connection", "upgrade");
            }
            resp.set("x-echo-path", String.valueOf(headers.path()));
            resp.set("x-echo-method", String.valueOf(headers.method()));
            resp.set("x-echo-authority", String.valueOf(headers.authority()));
            resp.set("x-echo-scheme", String.valueOf(headers.scheme()));
            resp.set("x-echo-upgrade", String.valueOf(upgrade));
            resp.set("x-echo-connection", String.valueOf(headers.get("connection")));
            resp.set("x-echo-protocol", String.valueOf(headers.get(":protocol")));
            resp.set("x-echo-cookie", String.valueOf(headers.get("cookie")));
            resp.set("x-echo-host", String.valueOf(headers.get("host")));
            resp.set("keep-alive", "timeout=5");
            if (headers.path() != null && headers.path().startsWith("/stream/")) {
                toStream = Long.parseLong(headers.path().substring("/stream/".length()));
                STREAMED.set(0);
                cb.addDownstreamWatermarkCallbacks(new dev.legate.api.network.WatermarkCallbacks() {
                    @Override
                    public void onAboveWriteBufferHighWatermark() {
                        ABOVE.incrementAndGet();
                        paused = true;
                    }

                    @Override
                    public void onBelowWriteBufferLowWatermark() {
                        paused = false;
                        cb.dispatcher().execute(EchoFilter.this::pump);
                    }
                });
                waiting = true;
                cb.encodeHeaders(resp, false);
                pump();
                return FilterHeadersStatus.STOP_ITERATION;
            }
            if ("/trailers".equals(headers.path())) {
                cb.encodeHeaders(resp, false);
                cb.encodeData(io.netty.buffer.ByteBufUtil.writeUtf8(io.netty.buffer.ByteBufAllocator.DEFAULT, "ok"),
                        false);
                HeaderMap t = cb.newHeaderMap();
                t.set("grpc-status", "0");
                cb.encodeTrailers(t);
                return FilterHeadersStatus.STOP_ITERATION;
            }
            cb.encodeHeaders(resp, endStream);
            return FilterHeadersStatus.STOP_ITERATION;
        }

        /** Writes 16 KiB chunks while the downstream is below its watermark (what the router does). */
        private void pump() {
            while (!paused && !destroyed && toStream > 0) {
                int n = (int) Math.min(16_384, toStream);
                toStream -= n;
                STREAMED.addAndGet(n);
                ByteBuf chunk = io.netty.buffer.ByteBufAllocator.DEFAULT.buffer(n).writeZero(n);
                cb.encodeData(chunk, toStream == 0);
            }
        }

        @Override
        public void onDestroy() {
            destroyed = true;
        }

        @Override
        public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
            if (!waiting) {
                cb.encodeData(data.retainedDuplicate(), endStream);
            }
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }

        @Override
        public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
            if (!waiting) {
                HeaderMap t = cb.newHeaderMap();
                t.set("x-trailer-echo", String.valueOf(trailers.get("x-request-trailer")));
                cb.encodeTrailers(t);
            }
            return FilterTrailersStatus.STOP_ITERATION;
        }
    }
}
