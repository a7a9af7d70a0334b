package dev.legate.filters.http.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.legate.api.AccessLogger;
import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.FactoryContext;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.ResourceManager;
import dev.legate.api.upstream.TcpConnectionPool;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import dev.legate.testkit.HttpFilterHarness.LocalReply;
import dev.legate.testkit.ManualDispatcher;
import dev.legate.testkit.TestFactoryContext;
import dev.legate.testkit.TestHeaderMap;
import dev.legate.testkit.TestStreamInfo;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Small hand-written stand-ins for the host's side of the SPI, enough to drive {@link RouterFilter} without
 * sockets, on top of the testkit's header map, stream info and manual dispatcher: callbacks that record what
 * reaches the downstream, a cluster whose pools hand out streams the test answers.
 */
final class RouterFakes {

    private RouterFakes() {
    }

    /** Records everything the router sends downstream. */
    static final class FakeCallbacks implements HttpFilterCallbacks {
        final ManualDispatcher dispatcher;
        final TestStreamInfo streamInfo = new TestStreamInfo();
        final FakeClusterManager clusterManager;
        Route route;
        int bufferLimit = 1024 * 1024;
        HeaderMap requestHeaders;

        LocalReply localReply;
        int localReplies;
        HeaderMap encodedHeaders;
        int encodedHeadersCount;
        final StringBuilder encodedBody = new StringBuilder();
        boolean encodedEnd;
        HeaderMap encodedTrailers;
        int resets;
        int aboveHighWatermark;
        int belowLowWatermark;
        final List<WatermarkCallbacks> downstreamWatermarks = new ArrayList<>();
        int removedWatermarks;

        FakeCallbacks(ManualDispatcher dispatcher, FakeClusterManager clusterManager) {
            this.dispatcher = dispatcher;
            this.clusterManager = clusterManager;
        }

        @Override
        public Dispatcher dispatcher() {
            return dispatcher;
        }

        @Override
        public StreamInfo streamInfo() {
            return streamInfo;
        }

        @Override
        public long connectionId() {
            return 1;
        }

        @Override
        public HeaderMap requestHeaders() {
            return requestHeaders;
        }

        @Override
        public Route route() {
            return route;
        }

        @Override
        public void clearRouteCache() {
        }

        @Override
        public <R> R perRouteConfig(Class<R> type) {
            return null;
        }

        @Override
        public ClusterManager clusterManager() {
            return clusterManager;
        }

        @Override
        public HeaderMap newHeaderMap() {
            return new TestHeaderMap();
        }

        @Override
        public int bufferLimit() {
            return bufferLimit;
        }

        @Override
        public void continueDecoding() {
            throw new AssertionError("the router never continues decoding");
        }

        @Override
        public ByteBuf decodingBuffer() {
            return null;
        }

        @Override
        public void addDecodedData(ByteBuf data) {
            data.release();
            throw new AssertionError("the router adds no decoded data");
        }

        @Override
        public void sendLocalReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details) {
            TestHeaderMap headers = TestHeaderMap.of(HeaderMap.STATUS, Integer.toString(status));
            if (modifyHeaders != null) {
                modifyHeaders.accept(headers);
            }
            if (!body.isEmpty()) {
                headers.set("content-type", "text/plain");
            }
            localReplies++;
            localReply = new LocalReply(status, body, headers, details);
            streamInfo.setResponseCode(status);
            streamInfo.setResponseCodeDetails(details);
        }

        @Override
        public void encodeHeaders(HeaderMap headers, boolean endStream) {
            encodedHeadersCount++;
            encodedHeaders = headers;
            encodedEnd = endStream;
            streamInfo.setResponseCode(headers.status());
        }

        @Override
        public void encodeData(ByteBuf data, boolean endStream) {
            encodedBody.append(data.toString(UTF_8));
            data.release();
            encodedEnd = endStream;
        }

        @Override
        public void encodeTrailers(HeaderMap trailers) {
            encodedTrailers = trailers;
            encodedEnd = true;
        }

        @Override
        public void resetStream() {
            resets++;
        }

        @Override
        public void onDecoderFilterAboveWriteBufferHighWatermark() {
            aboveHighWatermark++;
        }

        @Override
        public void onDecoderFilterBelowWriteBufferLowWatermark() {
            belowLowWatermark++;
        }

        @Override
        public void addDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
            downstreamWatermarks.add(callbacks);
        }

        @Override
        public void removeDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
            downstreamWatermarks.remove(callbacks);
            removedWatermarks++;
        }

        @Override
        public void continueEncoding() {
            throw new AssertionError("the router never continues encoding");
        }

        @Override
        public ByteBuf encodingBuffer() {
            return null;
        }

        @Override
        public void addEncodedData(ByteBuf data) {
            data.release();
            throw new AssertionError("the router adds no encoded data");
        }
    }

    static final class FakeRouteEntry implements RouteEntry {
        String clusterName = "backend";
        int clusterNotFoundResponseCode = 503;
        long timeoutMillis = 15_000;
        RetryPolicy retryPolicy = RetryPolicy.NONE;
        boolean autoHostRewrite;
        long maxGrpcTimeoutMillis = -1;
        long grpcTimeoutOffsetMillis;
        MaxStreamDuration maxStreamDuration;

        @Override
        public long maxGrpcTimeoutMillis() {
            return maxGrpcTimeoutMillis;
        }

        @Override
        public long grpcTimeoutOffsetMillis() {
            return grpcTimeoutOffsetMillis;
        }

        @Override
        public MaxStreamDuration maxStreamDuration() {
            return maxStreamDuration;
        }

        @Override
        public String clusterName() {
            return clusterName;
        }

        @Override
        public int clusterNotFoundResponseCode() {
            return clusterNotFoundResponseCode;
        }

        @Override
        public long timeoutMillis() {
            return timeoutMillis;
        }

        @Override
        public long idleTimeoutMillis() {
            return -1;
        }

        @Override
        public RetryPolicy retryPolicy() {
            return retryPolicy;
        }

        @Override
        public boolean autoHostRewrite() {
            return autoHostRewrite;
        }

        @Override
        public void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo) {
            headers.add("x-route-request", "added");
        }

        @Override
        public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
            headers.add("x-route-response", "added");
        }
    }

    static final class FakeDirectResponse implements DirectResponseEntry {
        final int status;
        final String body;
        final String location;

        FakeDirectResponse(int status, String body, String location) {
            this.status = status;
            this.body = body;
            this.location = location;
        }

        @Override
        public int responseCode() {
            return status;
        }

        @Override
        public String responseBody() {
            return body;
        }

        @Override
        public String newLocation(HeaderMap requestHeaders) {
            return location;
        }

        @Override
        public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
            headers.add("x-route-response", "added");
        }
    }

    /** A route; {@code config} says which action it came from (a redirect, a direct_response, a route). */
    record FakeRoute(RouteEntry routeEntry, DirectResponseEntry directResponseEntry,
                     io.envoyproxy.envoy.config.route.v3.Route config) implements Route {

        FakeRoute(RouteEntry routeEntry, DirectResponseEntry directResponseEntry) {
            this(routeEntry, directResponseEntry, io.envoyproxy.envoy.config.route.v3.Route.getDefaultInstance());
        }

        /** A route whose config is a {@code redirect}. */
        static FakeRoute redirect(DirectResponseEntry entry) {
            return new FakeRoute(null, entry, io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                    .setRedirect(io.envoyproxy.envoy.config.route.v3.RedirectAction.getDefaultInstance()).build());
        }

        @Override
        public String name() {
            return "";
        }

        @Override
        public VirtualHost virtualHost() {
            return VirtualHost.getDefaultInstance();
        }

        @Override
        public Object perFilterConfig(String filterName) {
            return null;
        }
    }

    record FakeHost(String ip, int port, String hostname) implements Host {
        @Override
        public InetSocketAddress address() {
            return new InetSocketAddress(ip, port);
        }

        @Override
        public String addressString() {
            return ip + ":" + port;
        }

        @Override
        public int weight() {
            return 1;
        }

        @Override
        public long activeRequests() {
            return 0;
        }
    }

    static final class FakeResourceManager implements ResourceManager {
        int maxRequests = 1024;
        int maxRetries = 3;
        int requests;
        int retries;

        @Override
        public boolean tryAcquireRequest() {
            if (requests >= maxRequests) {
                return false;
            }
            requests++;
            return true;
        }

        @Override
        public void releaseRequest() {
            requests--;
        }

        @Override
        public boolean tryAcquireRetry() {
            if (retries >= maxRetries) {
                return false;
            }
            retries++;
            return true;
        }

        @Override
        public void releaseRetry() {
            retries--;
        }
    }

    /** One upstream stream handed to the router: records the request, lets the test answer. */
    static final class FakeUpstreamStream implements UpstreamHttpStream {
        final UpstreamResponseHandler handler;
        final Host host;
        HeaderMap headers;
        final StringBuilder body = new StringBuilder();
        boolean ended;
        HeaderMap trailers;
        boolean reset;
        int readDisabled;
        Map<String, String> headersAtEncode;

        FakeUpstreamStream(UpstreamResponseHandler handler, Host host) {
            this.handler = handler;
            this.host = host;
        }

        @Override
        public void encodeHeaders(HeaderMap headers, boolean endStream) {
            this.headers = headers;
            Map<String, String> copy = new LinkedHashMap<>();
            headers.forEach(copy::put);
            headersAtEncode = copy;
            ended = endStream;
        }

        @Override
        public void encodeData(ByteBuf data, boolean endStream) {
            body.append(data.toString(UTF_8));
            data.release();
            ended = endStream;
        }

        @Override
        public void encodeTrailers(HeaderMap trailers) {
            this.trailers = trailers;
            ended = true;
        }

        @Override
        public void reset() {
            reset = true;
        }

        @Override
        public void readDisable(boolean disable) {
            readDisabled += disable ? 1 : -1;
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        /** The upstream answers with {@code status} and, when non-null, a body that ends the response. */
        void respond(int status, String responseBody, ByteBuf bodyBuffer) {
            boolean hasBody = bodyBuffer != null;
            handler.onHeaders(TestHeaderMap.of(HeaderMap.STATUS, Integer.toString(status)), !hasBody);
            if (hasBody) {
                handler.onData(bodyBuffer, true);
            }
        }
    }

    /** A pool request the test has not answered yet. */
    static final class PendingStream {
        final UpstreamResponseHandler handler;
        final HttpConnectionPool.PoolCallbacks callbacks;
        final Host host;
        boolean cancelled;
        boolean answered;

        PendingStream(UpstreamResponseHandler handler, HttpConnectionPool.PoolCallbacks callbacks, Host host) {
            this.handler = handler;
            this.callbacks = callbacks;
            this.host = host;
        }

        FakeUpstreamStream ready() {
            answered = true;
            FakeUpstreamStream stream = new FakeUpstreamStream(handler, host);
            callbacks.onPoolReady(stream, host);
            return stream;
        }

        void fail(ResetReason reason, String detail) {
            answered = true;
            callbacks.onPoolFailure(reason, detail, host);
        }
    }

    static final class FakeCluster implements UpstreamCluster {
        final String name;
        final Stats stats;
        final FakeResourceManager resources = new FakeResourceManager();
        final List<Host> hosts = new ArrayList<>();
        /** Every pool request, in order, across hosts. */
        final Deque<PendingStream> requests = new ArrayDeque<>();
        final List<PendingStream> allRequests = new ArrayList<>();
        private int next;

        FakeCluster(String name, Stats root) {
            this.name = name;
            this.stats = root.scope("cluster." + name);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public Stats stats() {
            return stats;
        }

        @Override
        public ResourceManager resourceManager() {
            return resources;
        }

        @Override
        public long connectTimeoutMillis() {
            return 5000;
        }

        @Override
        public int perConnectionBufferLimitBytes() {
            return 1024 * 1024;
        }

        @Override
        public Host chooseHost(LoadBalancerContext context) {
            if (hosts.isEmpty()) {
                return null;
            }
            Host chosen = null;
            for (int i = 0; i < hosts.size(); i++) {
                chosen = hosts.get(next++ % hosts.size());
                if (!context.shouldSelectAnotherHost(chosen)) {
                    break;
                }
            }
            return chosen;
        }

        @Override
        public HttpConnectionPool httpConnectionPool(Host host, Dispatcher dispatcher) {
            return (handler, callbacks) -> {
                PendingStream pending = new PendingStream(handler, callbacks, host);
                requests.add(pending);
                allRequests.add(pending);
                return (Cancellable) () -> pending.cancelled = true;
            };
        }

        @Override
        public TcpConnectionPool tcpConnectionPool(Host host, Dispatcher dispatcher) {
            throw new UnsupportedOperationException();
        }

        PendingStream nextRequest() {
            PendingStream p = requests.poll();
            if (p == null) {
                throw new AssertionError("no pool request pending");
            }
            return p;
        }
    }

    static final class FakeClusterManager implements ClusterManager {
        final Map<String, FakeCluster> clusters = new LinkedHashMap<>();

        @Override
        public UpstreamCluster cluster(String name) {
            return clusters.get(name);
        }

        @Override
        public Set<String> clusterNames() {
            return clusters.keySet();
        }
    }

    /** Records access-log calls. */
    static final class RecordingLogger implements AccessLogger {
        final List<HeaderMap> responses = new ArrayList<>();

        @Override
        public void log(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                        StreamInfo streamInfo) {
            responses.add(responseHeaders);
        }
    }

    /** The HCM's context as the router sees it: {@code context} with stats under {@code http.ingress.}. */
    static FactoryContext hcmContext(TestFactoryContext context) {
        return context.withStats(context.stats().scope("http.ingress"));
    }
}
