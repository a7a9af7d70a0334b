package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A small asynchronous HTTP client for scripts' {@code httpCall} (Envoy's {@code AsyncClient} as the Lua filter
 * uses it): one request through the cluster's load balancer and this event loop's HTTP connection pool, the whole
 * response collected, an optional timeout timer. Confined to the stream's event loop; the result is delivered
 * there, never inline from {@link #send}.
 *
 * <p>Failures are responses, as in Envoy: no healthy host, a failed connection or a reset give {@code 503}
 * {@code upstream failure}; the timeout gives {@code 504} {@code upstream request timeout}; a response body past
 * {@code maxResponseBytes} gives {@code 503} too. Cluster stats ({@code upstream_rq_*}) are the pool's only.
 */
public final class ScriptHttpClient {

    /**
     * The largest {@code httpCall} response body a script gets, for every engine: 4 MiB. A bigger answer is a
     * {@code 503} {@code upstream failure}, as Envoy's async client fails a response past its buffer limit.
     */
    public static final int MAX_RESPONSE_BYTES = 4 << 20;

    private ScriptHttpClient() {
    }

    /**
     * Sends {@code request}; {@code done} runs on the event loop exactly once unless the returned handle is
     * cancelled first.
     *
     * @throws ScriptUsageException when the cluster is unknown or a required pseudo-header is missing
     */
    public static Cancellable send(HttpFilterCallbacks callbacks, HttpCallRequest request, int maxResponseBytes,
                                   Consumer<HttpCallResult> done) {
        requireNonNull(callbacks, "callbacks");
        requireNonNull(request, "request");
        requireNonNull(done, "done");
        UpstreamCluster cluster = callbacks.clusterManager().cluster(request.cluster());
        if (cluster == null) {
            throw new ScriptUsageException("http call cluster invalid. Must be configured");
        }
        boolean path = false;
        boolean method = false;
        boolean authority = false;
        for (Map.Entry<String, String> h : request.headers()) {
            switch (h.getKey()) {
                case HeaderMap.PATH -> path = true;
                case HeaderMap.METHOD -> method = true;
                case HeaderMap.AUTHORITY -> authority = true;
                default -> { }
            }
        }
        if (!path || !method || !authority) {
            throw new ScriptUsageException("http call headers must include ':path', ':method', and ':authority'");
        }
        Call call = new Call(callbacks, request, maxResponseBytes, done);
        call.start(cluster);
        return call;
    }

    private static final class Call implements Cancellable, UpstreamResponseHandler, HttpConnectionPool.PoolCallbacks {
        private final HttpFilterCallbacks callbacks;
        private final Dispatcher dispatcher;
        private final HttpCallRequest request;
        private final int maxResponseBytes;
        private final Consumer<HttpCallResult> done;
        private Cancellable poolRequest;
        private UpstreamHttpStream stream;
        private Dispatcher.Timer timer;
        private HeaderMap responseHeaders;
        private ByteArrayOutputStream body;
        private boolean finished;
        private boolean starting;

        Call(HttpFilterCallbacks callbacks, HttpCallRequest request, int maxResponseBytes,
             Consumer<HttpCallResult> done) {
            this.callbacks = callbacks;
            this.dispatcher = callbacks.dispatcher();
            this.request = request;
            this.maxResponseBytes = maxResponseBytes;
            this.done = done;
        }

        void start(UpstreamCluster cluster) {
            starting = true;
            try {
                startInner(cluster);
            } finally {
                starting = false;
            }
        }

        private void startInner(UpstreamCluster cluster) {
            if (request.timeoutMs() > 0) {
                timer = dispatcher.schedule(this::onTimeout, request.timeoutMs(), TimeUnit.MILLISECONDS);
            }
            Host host = cluster.chooseHost(LoadBalancerContext.NONE);
            if (host == null) {
                deliver(HttpCallResult.local(503, "upstream failure"));
                return;
            }
            poolRequest = cluster.httpConnectionPool(host, dispatcher).newStream(this, this);
        }

        // PoolCallbacks

        @Override
        public void onPoolReady(UpstreamHttpStream upstream, Host host) {
            poolRequest = null;
            if (finished) {
                upstream.reset();
                return;
            }
            stream = upstream;
            HeaderMap headers = callbacks.newHeaderMap();
            for (Map.Entry<String, String> h : request.headers()) {
                headers.add(h.getKey(), h.getValue());
            }
            if (!headers.contains(HeaderMap.SCHEME)) {
                headers.set(HeaderMap.SCHEME, "http");
            }
            byte[] b = request.body();
            boolean hasBody = b != null && b.length > 0;
            if (hasBody) {
                headers.set("content-length", Integer.toString(b.length));
            }
            upstream.encodeHeaders(headers, !hasBody);
            if (hasBody && !finished) {
                upstream.encodeData(Unpooled.wrappedBuffer(b), true);
            }
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host host) {
            poolRequest = null;
            deliver(HttpCallResult.local(503, "upstream failure"));
        }

        // UpstreamResponseHandler

        @Override
        public void onHeaders(HeaderMap headers, boolean endStream) {
            responseHeaders = headers;
            if (endStream) {
                complete();
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            try {
                if (finished) {
                    return;
                }
                if (body == null) {
                    body = new ByteArrayOutputStream(Math.max(16, data.readableBytes()));
                }
                if (maxResponseBytes > 0 && body.size() + data.readableBytes() > maxResponseBytes) {
                    resetStream();
                    deliver(HttpCallResult.local(503, "upstream failure"));
                    return;
                }
                data.readBytes(body, data.readableBytes());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            } finally {
                data.release();
            }
            if (endStream) {
                complete();
            }
        }

        @Override
        public void onTrailers(HeaderMap trailers) {
            complete();
        }

        @Override
        public void onReset(ResetReason reason, String transportFailure) {
            stream = null;
            deliver(HttpCallResult.local(503, "upstream failure"));
        }

        private void onTimeout() {
            timer = null;
            if (finished) {
                return;
            }
            resetStream();
            if (poolRequest != null) {
                poolRequest.cancel();
                poolRequest = null;
            }
            deliver(HttpCallResult.local(504, "upstream request timeout"));
        }

        private void complete() {
            stream = null;
            List<Map.Entry<String, String>> headers = new ArrayList<>(responseHeaders.size());
            responseHeaders.forEach((k, v) -> headers.add(Map.entry(k, v)));
            deliver(new HttpCallResult(responseHeaders.status(), headers, body == null ? null : body.toByteArray()));
        }

        private void deliver(HttpCallResult result) {
            if (finished) {
                return;
            }
            if (starting) {
                dispatcher.execute(() -> deliver(result));
                return;
            }
            finish(result);
        }

        private void finish(HttpCallResult result) {
            if (end()) {
                done.accept(result);
            }
        }

        /** Marks the call finished and stops its timer; {@code false} when it had finished already. */
        private boolean end() {
            if (finished) {
                return false;
            }
            finished = true;
            if (timer != null) {
                timer.cancel();
                timer = null;
            }
            return true;
        }

        private void resetStream() {
            UpstreamHttpStream s = stream;
            stream = null;
            if (s != null) {
                s.reset();
            }
        }

        // Cancellable

        @Override
        public void cancel() {
            if (!end()) {
                return;
            }
            if (poolRequest != null) {
                poolRequest.cancel();
                poolRequest = null;
            }
            resetStream();
        }
    }
}
