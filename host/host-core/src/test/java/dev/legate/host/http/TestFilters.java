package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterChainEntry;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Real filters for the stream-machine tests; each also marks responses it encodes with {@code x-seen}. */
final class TestFilters {

    private TestFilters() {
    }

    /** local → buffer → pause → echo (terminal). */
    static List<HttpFilterChainEntry> chain() {
        return List.of(
                new HttpFilterChainEntry("test.local", LocalReplyFilter::new, false),
                new HttpFilterChainEntry("test.buffer", BufferFilter::new, false),
                new HttpFilterChainEntry("test.pause", PauseFilter::new, false),
                new HttpFilterChainEntry("test.echo", EchoFilter::new, true));
    }

    /** Answers {@code /local*} paths with local replies. */
    static final class LocalReplyFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;

        LocalReplyFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            switch (headers.path()) {
                case "/local" -> cb.sendLocalReply(403, "denied by test", h -> h.set("x-test", "1"), "test_denied");
                case "/local-empty" -> cb.sendLocalReply(503, "", null, "test_empty");
                case "/local-grpc" -> cb.sendLocalReply(503, "no\nway%", null, "test_grpc");
                default -> {
                    return FilterHeadersStatus.CONTINUE;
                }
            }
            return FilterHeadersStatus.STOP_ITERATION;
        }

        @Override
        public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
            headers.add("x-seen", "local");
            return FilterHeadersStatus.CONTINUE;
        }
    }

    /** With {@code x-buffer}: holds the headers and buffers the whole body (Envoy's buffer filter). */
    static final class BufferFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;
        private boolean buffering;

        BufferFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            buffering = headers.contains("x-buffer");
            return buffering && !endStream ? FilterHeadersStatus.STOP_ITERATION : FilterHeadersStatus.CONTINUE;
        }

        @Override
        public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
            if (!buffering || endStream) {
                return FilterDataStatus.CONTINUE;
            }
            return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
        }

        @Override
        public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
            headers.add("x-seen", "buffer");
            return FilterHeadersStatus.CONTINUE;
        }
    }

    /** With {@code x-pause}: stops all iteration and continues from a 50 ms timer. */
    static final class PauseFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;
        private Dispatcher.Timer timer;

        PauseFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            if (!headers.contains("x-pause")) {
                return FilterHeadersStatus.CONTINUE;
            }
            timer = cb.dispatcher().schedule(() -> {
                timer = null;
                if (!cb.dispatcher().inEventLoop()) {
                    throw new AssertionError("not on the event loop");
                }
                cb.continueDecoding();
            }, 50, TimeUnit.MILLISECONDS);
            return FilterHeadersStatus.STOP_ALL_ITERATION_AND_BUFFER;
        }

        @Override
        public void onDestroy() {
            if (timer != null) {
                timer.cancel();
            }
        }
    }

    /**
     * Terminal: answers 200 at once and echoes the request body chunk by chunk; on {@code /wait} it never
     * answers (for timeouts).
     */
    static final class EchoFilter implements HttpFilter {
        private final HttpFilterCallbacks cb;
        private boolean waiting;

        EchoFilter(HttpFilterCallbacks cb) {
            this.cb = cb;
        }

        @Override
        public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
            if (headers.path().startsWith("/wait")) {
                waiting = true;
                return FilterHeadersStatus.STOP_ITERATION;
            }
            HeaderMap resp = cb.newHeaderMap();
            resp.set(HeaderMap.STATUS, "200");
            resp.set("x-echo-path", headers.path());
            resp.set("x-echo-method", headers.method());
            resp.set("x-echo-authority", String.valueOf(headers.authority()));
            resp.set("x-echo-scheme", String.valueOf(headers.scheme()));
            resp.set("x-echo-request-id", String.valueOf(headers.get("x-request-id")));
            resp.set("x-had-expect", Boolean.toString(headers.contains("expect")));
            resp.set("x-had-keep-alive", Boolean.toString(headers.contains("keep-alive")
                    || headers.contains("x-nominated")));
            if ("HEAD".equals(headers.method())) {
                resp.set("content-length", "5");
                cb.encodeHeaders(resp, true);
            } else {
                cb.encodeHeaders(resp, endStream);
            }
            return FilterHeadersStatus.STOP_ITERATION;
        }

        @Override
        public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
            if (!waiting) {
                cb.encodeData(data.retainedDuplicate(), endStream);
            }
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
    }
}
