package dev.legate.filters.http.router;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.FactoryContext;
import dev.legate.api.ResponseFlag;
import dev.legate.api.StateKey;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Gauge;
import dev.legate.api.stats.Histogram;
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
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Small hand-written stand-ins for the host's side of the SPI, enough to drive {@link RouterFilter} without
 * sockets: a dispatcher whose clock the test advances, callbacks that record what reaches the downstream, a
 * cluster whose pools hand out streams the test answers.
 */
final class RouterFakes {

    private RouterFakes() {
    }

    /** A header map: lower-case names, several values per name, insertion order. */
    static final class Headers implements HeaderMap {
        private final List<Map.Entry<String, String>> entries = new ArrayList<>();

        static Headers of(String... nameValues) {
            Headers h = new Headers();
            for (int i = 0; i < nameValues.length; i += 2) {
                h.add(nameValues[i], nameValues[i + 1]);
            }
            return h;
        }

        @Override
        public String get(CharSequence name) {
            String n = name.toString().toLowerCase(Locale.ROOT);
            for (Map.Entry<String, String> e : entries) {
                if (e.getKey().equals(n)) {
                    return e.getValue();
                }
            }
            return null;
        }

        @Override
        public List<String> getAll(CharSequence name) {
            String n = name.toString().toLowerCase(Locale.ROOT);
            List<String> out = new ArrayList<>();
            for (Map.Entry<String, String> e : entries) {
                if (e.getKey().equals(n)) {
                    out.add(e.getValue());
                }
            }
            return out;
        }

        @Override
        public boolean contains(CharSequence name) {
            return get(name) != null;
        }

        @Override
        public HeaderMap add(CharSequence name, String value) {
            entries.add(new AbstractMap.SimpleEntry<>(name.toString().toLowerCase(Locale.ROOT), value));
            return this;
        }

        @Override
        public HeaderMap set(CharSequence name, String value) {
            remove(name);
            return add(name, value);
        }

        @Override
        public boolean remove(CharSequence name) {
            String n = name.toString().toLowerCase(Locale.ROOT);
            return entries.removeIf(e -> e.getKey().equals(n));
        }

        @Override
        public int size() {
            return entries.size();
        }

        @Override
        public void forEach(BiConsumer<String, String> action) {
            for (Map.Entry<String, String> e : entries) {
                action.accept(e.getKey(), e.getValue());
            }
        }

        @Override
        public long byteSize() {
            long n = 0;
            for (Map.Entry<String, String> e : entries) {
                n += e.getKey().length() + e.getValue().length();
            }
            return n;
        }

        @Override
        public Iterator<Map.Entry<String, String>> iterator() {
            return Collections.unmodifiableList(entries).iterator();
        }

        @Override
        public String toString() {
            return entries.toString();
        }
    }

    /** A dispatcher whose clock moves only when the test calls {@link #advance}. */
    static final class ManualDispatcher implements Dispatcher {
        private record Task(long due, long seq, Runnable runnable, boolean[] cancelled) { }

        private final List<Task> tasks = new ArrayList<>();
        private long now = 1_000_000;
        private long seq;

        @Override
        public void execute(Runnable task) {
            schedule(task, 0, TimeUnit.MILLISECONDS);
        }

        @Override
        public Timer schedule(Runnable task, long delay, TimeUnit unit) {
            boolean[] cancelled = {false};
            tasks.add(new Task(now + unit.toMillis(delay), seq++, task, cancelled));
            return () -> cancelled[0] = true;
        }

        @Override
        public boolean inEventLoop() {
            return true;
        }

        @Override
        public long currentTimeMillis() {
            return now;
        }

        /** Moves the clock by {@code millis}, running every task that falls due, in order. */
        void advance(long millis) {
            long target = now + millis;
            for (int guard = 0; guard < 10_000; guard++) {
                Task next = null;
                for (Task t : tasks) {
                    if (!t.cancelled[0] && t.due <= target
                            && (next == null || t.due < next.due || (t.due == next.due && t.seq < next.seq))) {
                        next = t;
                    }
                }
                if (next == null) {
                    break;
                }
                tasks.remove(next);
                now = Math.max(now, next.due);
                next.runnable.run();
            }
            now = target;
            tasks.removeIf(t -> t.cancelled[0]);
        }

        /** Tasks scheduled and not cancelled. */
        int pendingTasks() {
            int n = 0;
            for (Task t : tasks) {
                if (!t.cancelled[0]) {
                    n++;
                }
            }
            return n;
        }
    }

    /** Stats in one shared map keyed by full name. */
    static final class FakeStats implements Stats {
        final String prefix;
        final Map<String, AtomicLong> values;
        final Map<String, List<Long>> histograms;

        FakeStats(String prefix) {
            this(prefix, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
        }

        private FakeStats(String prefix, Map<String, AtomicLong> values, Map<String, List<Long>> histograms) {
            this.prefix = prefix;
            this.values = values;
            this.histograms = histograms;
        }

        @Override
        public String prefix() {
            return prefix;
        }

        @Override
        public Stats scope(String name) {
            return new FakeStats(prefix + (name.endsWith(".") ? name : name + "."), values, histograms);
        }

        @Override
        public Counter counter(String name) {
            AtomicLong v = values.computeIfAbsent(prefix + name, k -> new AtomicLong());
            return new Counter() {
                @Override
                public void inc() {
                    v.incrementAndGet();
                }

                @Override
                public void add(long amount) {
                    v.addAndGet(amount);
                }

                @Override
                public long value() {
                    return v.get();
                }
            };
        }

        @Override
        public Gauge gauge(String name) {
            AtomicLong v = values.computeIfAbsent(prefix + name, k -> new AtomicLong());
            return new Gauge() {
                @Override
                public void inc() {
                    v.incrementAndGet();
                }

                @Override
                public void dec() {
                    v.decrementAndGet();
                }

                @Override
                public void add(long delta) {
                    v.addAndGet(delta);
                }

                @Override
                public void set(long value) {
                    v.set(value);
                }

                @Override
                public long value() {
                    return v.get();
                }
            };
        }

        @Override
        public Histogram histogram(String name) {
            List<Long> list = histograms.computeIfAbsent(prefix + name, k -> Collections.synchronizedList(new ArrayList<>()));
            return list::add;
        }

        /** The value of a counter or gauge by its name relative to this scope; 0 when never touched. */
        long value(String name) {
            AtomicLong v = values.get(prefix + name);
            return v == null ? 0 : v.get();
        }
    }

    static final class FakeStreamInfo implements StreamInfo {
        final Set<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
        final Map<StateKey<?>, Object> state = new HashMap<>();
        int responseCode;
        String details;
        String upstreamHost;
        String upstreamCluster;

        @Override
        public long startTimeMillis() {
            return 0;
        }

        @Override
        public long startTimeNanos() {
            return 0;
        }

        @Override
        public String protocol() {
            return "HTTP/1.1";
        }

        @Override
        public InetSocketAddress downstreamRemoteAddress() {
            return new InetSocketAddress("127.0.0.1", 50000);
        }

        @Override
        public InetSocketAddress downstreamLocalAddress() {
            return new InetSocketAddress("127.0.0.1", 10000);
        }

        @Override
        public int responseCode() {
            return responseCode;
        }

        @Override
        public String responseCodeDetails() {
            return details;
        }

        @Override
        public void setResponseCodeDetails(String details) {
            this.details = details;
        }

        @Override
        public Set<ResponseFlag> responseFlags() {
            return flags;
        }

        @Override
        public void setResponseFlag(ResponseFlag flag) {
            flags.add(flag);
        }

        @Override
        public long bytesReceived() {
            return 0;
        }

        @Override
        public long bytesSent() {
            return 0;
        }

        @Override
        public String upstreamHost() {
            return upstreamHost;
        }

        @Override
        public void setUpstreamHost(String hostAddress) {
            upstreamHost = hostAddress;
        }

        @Override
        public String upstreamCluster() {
            return upstreamCluster;
        }

        @Override
        public void setUpstreamCluster(String clusterName) {
            upstreamCluster = clusterName;
        }

        @Override
        public String routeName() {
            return null;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <T> T state(StateKey<T> key) {
            return (T) state.get(key);
        }

        @Override
        public <T> void setState(StateKey<T> key, T value) {
            state.put(key, value);
        }
    }

    /** A local reply as the host would build it (status, body, the headers after the filter's changes). */
    record LocalReply(int status, String body, Headers headers, String details) { }

    /** Records everything the router sends downstream. */
    static final class FakeCallbacks implements HttpFilterCallbacks {
        final ManualDispatcher dispatcher;
        final FakeStreamInfo streamInfo = new FakeStreamInfo();
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
            return new Headers();
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
            Headers headers = Headers.of(HeaderMap.STATUS, Integer.toString(status));
            if (modifyHeaders != null) {
                modifyHeaders.accept(headers);
            }
            if (!body.isEmpty()) {
                headers.set("content-type", "text/plain");
            }
            localReplies++;
            localReply = new LocalReply(status, body, headers, details);
            streamInfo.responseCode = status;
            streamInfo.details = details;
        }

        @Override
        public void encodeHeaders(HeaderMap headers, boolean endStream) {
            encodedHeadersCount++;
            encodedHeaders = headers;
            encodedEnd = endStream;
            streamInfo.responseCode = headers.status();
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

    record FakeRoute(RouteEntry routeEntry, DirectResponseEntry directResponseEntry) implements Route {
        @Override
        public String name() {
            return "";
        }

        @Override
        public io.envoyproxy.envoy.config.route.v3.Route config() {
            return io.envoyproxy.envoy.config.route.v3.Route.getDefaultInstance();
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
            handler.onHeaders(Headers.of(HeaderMap.STATUS, Integer.toString(status)), !hasBody);
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
        final FakeStats stats;
        final FakeResourceManager resources = new FakeResourceManager();
        final List<Host> hosts = new ArrayList<>();
        /** Every pool request, in order, across hosts. */
        final Deque<PendingStream> requests = new ArrayDeque<>();
        final List<PendingStream> allRequests = new ArrayList<>();
        private int next;

        FakeCluster(String name, FakeStats root) {
            this.name = name;
            this.stats = (FakeStats) root.scope("cluster." + name);
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

    /** The HCM's context as the router sees it: stats rooted at {@code http.ingress.}. */
    static final class FakeFactoryContext implements FactoryContext {
        final FakeStats root;
        final RecordingLogger upstreamLog = new RecordingLogger();

        FakeFactoryContext(FakeStats root) {
            this.root = root;
        }

        @Override
        public Stats stats() {
            return root.scope("http.ingress");
        }

        @Override
        public ClusterManager clusterManager() {
            throw new UnsupportedOperationException();
        }

        @Override
        public HttpConnectionService http() {
            throw new UnsupportedOperationException();
        }

        @Override
        public HttpFilterChainEntry httpFilter(String name, Any typedConfig, String path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object perFilterConfig(String filterName, Any config, String path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public AccessLogger accessLogger(List<AccessLog> accessLogs, String path) {
            return upstreamLog;
        }

        @Override
        public String serviceNode() {
            return "node";
        }

        @Override
        public String serviceCluster() {
            return "cluster";
        }

        @Override
        public Path configDirectory() {
            return Path.of(".");
        }

        @Override
        public boolean validateOnly() {
            return false;
        }

        @Override
        public FactoryContext withStats(Stats scope) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void onClose(AutoCloseable resource) {
        }
    }
}
