package dev.legate.testkit;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.api.http.Route;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Drives one {@link HttpFilter} without sockets, playing the host's stream state machine for a stream
 * whose only filter is the one under test (Netty's {@code EmbeddedChannel} idea, for Legate's SPI).
 *
 * <pre>{@code
 * HttpFilterHarness h = HttpFilterHarness.of(factory.create(config, new TestFactoryContext()));
 * assertThat(h.decodeHeaders(TestHeaderMap.of(":method", "GET", ":path", "/"), true))
 *         .isEqualTo(FilterHeadersStatus.CONTINUE);
 * h.encodeResponseHeaders(TestHeaderMap.of(":status", "200"), true);
 * assertThat(h.encodedHeaders().get("x-added")).isEqualTo("yes");
 * }</pre>
 *
 * <h2>What it does</h2>
 * <ul>
 *   <li>The test calls {@code decode*}/{@code encodeResponse*} as the host would; each returns the filter's
 *       status. What the filter lets pass is recorded: on the request side as {@link #decodedHeaders()}
 *       and {@link #decodedBody()} (what the next filter would get), on the response side as
 *       {@link #encodedHeaders()}, {@link #encodedBody()}, {@link #encodedTrailers()} (what the downstream
 *       would get). Headers a filter held with a STOP status are released by its {@code continueDecoding()}
 *       / {@code continueEncoding()}; data it asked to buffer is kept in {@link #decodingBuffer()} /
 *       {@link #encodingBuffer()} until then.</li>
 *   <li>As in Envoy, a local reply and the callbacks' {@code encodeHeaders/Data/Trailers} pass through the
 *       filter's own {@code encode*} methods (the encoder chain starts at the first encoder filter) before
 *       they are recorded. {@link #localReplies()} keeps each reply's status, body, final headers and
 *       details; the stream info gets the response code and details. A local reply after response
 *       headers went downstream counts as a reset instead, as in the host. gRPC's trailers-only form is
 *       not modelled.</li>
 *   <li>Trailers a filter held with {@code STOP_ITERATION} are passed on by its next {@code continueDecoding()} /
 *       {@code continueEncoding()}. Data the filter injects with {@code injectEncodedDataToFilterChain} goes
 *       downstream at once (recorded in {@link #encodedBody()}; {@link #injectedEncodedData()} keeps each piece).</li>
 *   <li>Counts of {@code continueDecoding}/{@code continueEncoding}, resets and watermark calls;
 *       {@link #downstreamAboveHighWatermark()} / {@link #downstreamBelowLowWatermark()} call the
 *       filter's registered downstream watermark callbacks.</li>
 *   <li>Settable: {@link #route(Route)}, {@link #perRouteConfig(Object)}, {@link #clusterManager(ClusterManager)},
 *       {@link #bufferLimit(int)}, {@link #connectionId(long)}; the dispatcher is a {@link ManualDispatcher}
 *       and the stream info a {@link TestStreamInfo} unless given.</li>
 * </ul>
 *
 * <h2>Buffers</h2>
 * A {@code ByteBuf} handed to {@link #decodeData}/{@link #encodeResponseData} is <em>transferred</em> to the harness,
 * which lends it to the filter for the call and then releases it, as the host does. Buffers the filter
 * passes to {@code addDecodedData}/{@code addEncodedData}/{@code encodeData} are released by the harness
 * too. Recorded bodies are copies and the harness's own buffers are not leak-tracked, so a test that also
 * uses {@link LeakCheck} sees the filter's leaks only. Call {@link #close()} at the end to call {@code onDestroy()} and free held buffers.
 *
 * <p>Single-threaded: everything runs on the test's thread, which plays the event loop.
 */
public final class HttpFilterHarness implements HttpFilterCallbacks, AutoCloseable {

    /** A local reply as the downstream saw it. */
    public record LocalReply(int status, String body, HeaderMap headers, String details) {
    }

    /**
     * One {@code injectEncodedDataToFilterChain} call: the bytes (UTF-8 is not assumed), the end flag, and the
     * dispatcher's clock when it was made ({@link Dispatcher#currentTimeMillis()}).
     */
    public record Injected(byte[] bytes, boolean endStream, long atMillis) {
        /** Number of bytes injected. */
        public int length() {
            return bytes.length;
        }
    }

    private final Dispatcher dispatcher;
    private final StreamInfo streamInfo;
    private final HttpFilter filter;

    private Route route;
    private int clearRouteCacheCalls;
    private Object perRouteConfig;
    private ClusterManager clusterManager;
    private int bufferLimit = 1024 * 1024;
    private long connectionId = 1;

    private HeaderMap requestHeaders;
    private HeaderMap heldDecodeHeaders;
    private HeaderMap decodedHeaders;
    private final ByteArrayOutputStream decodedBody = new ByteArrayOutputStream();
    private ByteBuf decodingBuffer;
    private HeaderMap decodedTrailers;
    private HeaderMap heldDecodeTrailers;
    private int continueDecodingCalls;

    private HeaderMap heldEncodeHeaders;
    private boolean heldEncodeEnd;
    private HeaderMap encodedHeaders;
    private final ByteArrayOutputStream encodedBody = new ByteArrayOutputStream();
    private ByteBuf encodingBuffer;
    private HeaderMap encodedTrailers;
    private HeaderMap heldEncodeTrailers;
    private boolean responseComplete;
    private int continueEncodingCalls;
    private final List<Injected> injected = new ArrayList<>();
    private int encoderAboveHighCalls;
    private int encoderBelowLowCalls;

    private final List<LocalReply> localReplies = new ArrayList<>();
    private int resets;
    private int aboveHighCalls;
    private int belowLowCalls;
    private final List<WatermarkCallbacks> downstreamWatermarks = new ArrayList<>();
    private boolean destroyed;

    private HttpFilterHarness(HttpFilterInstaller installer, Dispatcher dispatcher, StreamInfo streamInfo) {
        this.dispatcher = requireNonNull(dispatcher, "dispatcher");
        this.streamInfo = requireNonNull(streamInfo, "streamInfo");
        this.filter = requireNonNull(requireNonNull(installer, "installer").newFilter(this), "newFilter() result");
    }

    /** A harness over the filter {@code installer} makes, with a {@link ManualDispatcher} and a {@link TestStreamInfo}. */
    public static HttpFilterHarness of(HttpFilterInstaller installer) {
        return new HttpFilterHarness(installer, new ManualDispatcher(), new TestStreamInfo());
    }

    /** A harness with the given dispatcher and stream info. */
    public static HttpFilterHarness of(HttpFilterInstaller installer, Dispatcher dispatcher, StreamInfo streamInfo) {
        return new HttpFilterHarness(installer, dispatcher, streamInfo);
    }

    /** The filter under test. */
    public HttpFilter filter() {
        return filter;
    }

    // ---- driving the request path ----

    /** Calls the filter's {@code decodeHeaders}; on {@code CONTINUE} the headers count as passed on. */
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        requestHeaders = requireNonNull(headers, "headers");
        FilterHeadersStatus s = filter.decodeHeaders(headers, endStream);
        if (s == FilterHeadersStatus.CONTINUE) {
            decodedHeaders = headers;
        } else {
            heldDecodeHeaders = headers;
        }
        return s;
    }

    /** Calls {@code decodeData} with {@code data} (transferred to the harness: it releases it after the call). */
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        try {
            FilterDataStatus s = filter.decodeData(data, endStream);
            switch (s) {
                case CONTINUE -> {
                    if (heldDecodeHeaders == null) {
                        copy(data, decodedBody);
                    } else {
                        bufferDecoding(data);
                    }
                }
                case STOP_ITERATION_AND_BUFFER, STOP_ITERATION_AND_WATERMARK -> bufferDecoding(data);
                case STOP_ITERATION_NO_BUFFER -> { }
            }
            return s;
        } finally {
            data.release();
        }
    }

    /** {@link #decodeData(ByteBuf, boolean)} with a UTF-8 string. */
    public FilterDataStatus decodeData(String data, boolean endStream) {
        return decodeData(Unpooled.copiedBuffer(data, StandardCharsets.UTF_8), endStream);
    }

    /** Calls {@code decodeTrailers}; on {@code CONTINUE} they count as passed on. */
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        FilterTrailersStatus s = filter.decodeTrailers(trailers);
        if (s == FilterTrailersStatus.CONTINUE) {
            decodedTrailers = trailers;
        } else {
            heldDecodeTrailers = trailers;
        }
        return s;
    }

    // ---- driving the response path (as if an upstream filter encoded it) ----

    /** Calls the filter's {@code encodeHeaders}; on {@code CONTINUE} the downstream gets them. */
    public FilterHeadersStatus encodeResponseHeaders(HeaderMap headers, boolean endStream) {
        FilterHeadersStatus s = filter.encodeHeaders(requireNonNull(headers, "headers"), endStream);
        if (s == FilterHeadersStatus.CONTINUE) {
            sendHeadersDownstream(headers, endStream);
        } else {
            heldEncodeHeaders = headers;
            heldEncodeEnd = endStream;
        }
        return s;
    }

    /** Calls {@code encodeData} with {@code data} (transferred to the harness: it releases it after the call). */
    public FilterDataStatus encodeResponseData(ByteBuf data, boolean endStream) {
        try {
            FilterDataStatus s = filter.encodeData(data, endStream);
            switch (s) {
                case CONTINUE -> {
                    if (heldEncodeHeaders == null) {
                        copy(data, encodedBody);
                        responseComplete |= endStream;
                    } else {
                        bufferEncoding(data);
                    }
                }
                case STOP_ITERATION_AND_BUFFER, STOP_ITERATION_AND_WATERMARK -> bufferEncoding(data);
                case STOP_ITERATION_NO_BUFFER -> { }
            }
            return s;
        } finally {
            data.release();
        }
    }

    /** {@link #encodeResponseData(ByteBuf, boolean)} with a UTF-8 string. */
    public FilterDataStatus encodeResponseData(String data, boolean endStream) {
        return encodeResponseData(Unpooled.copiedBuffer(data, StandardCharsets.UTF_8), endStream);
    }

    /** Calls {@code encodeTrailers}; on {@code CONTINUE} the downstream gets them and the response ends. */
    public FilterTrailersStatus encodeResponseTrailers(HeaderMap trailers) {
        FilterTrailersStatus s = filter.encodeTrailers(trailers);
        if (s == FilterTrailersStatus.CONTINUE) {
            encodedTrailers = trailers;
            responseComplete = true;
        } else {
            heldEncodeTrailers = trailers;
        }
        return s;
    }

    // ---- what was recorded ----

    /** The request headers given to {@link #decodeHeaders}, or {@code null}. */
    @Override
    public HeaderMap requestHeaders() {
        return requestHeaders;
    }

    /** Request headers the filter passed on (CONTINUE or continueDecoding), or {@code null}. */
    public HeaderMap decodedHeaders() {
        return decodedHeaders;
    }

    /** Request body the filter passed on, as UTF-8. */
    public String decodedBody() {
        return decodedBody.toString(StandardCharsets.UTF_8);
    }

    /** Request trailers the filter passed on, or {@code null}. */
    public HeaderMap decodedTrailers() {
        return decodedTrailers;
    }

    /** Response headers the downstream got (after the filter's encodeHeaders), or {@code null}. */
    public HeaderMap encodedHeaders() {
        return encodedHeaders;
    }

    /** Response body the downstream got, as UTF-8. */
    public String encodedBody() {
        return encodedBody.toString(StandardCharsets.UTF_8);
    }

    /** Response trailers the downstream got, or {@code null}. */
    public HeaderMap encodedTrailers() {
        return encodedTrailers;
    }

    /** Whether the downstream saw the end of the response. */
    public boolean responseComplete() {
        return responseComplete;
    }

    /** Local replies in the order sent. */
    public List<LocalReply> localReplies() {
        return List.copyOf(localReplies);
    }

    /** The last local reply, or {@code null}. */
    public LocalReply lastLocalReply() {
        return localReplies.isEmpty() ? null : localReplies.get(localReplies.size() - 1);
    }

    public int continueDecodingCalls() {
        return continueDecodingCalls;
    }

    public int continueEncodingCalls() {
        return continueEncodingCalls;
    }

    /** Each {@code injectEncodedDataToFilterChain} call, in order. */
    public List<Injected> injectedEncodedData() {
        return List.copyOf(injected);
    }

    /** Calls to {@code onEncoderFilterAboveWriteBufferHighWatermark}. */
    public int encoderAboveHighWatermarkCalls() {
        return encoderAboveHighCalls;
    }

    /** Calls to {@code onEncoderFilterBelowWriteBufferLowWatermark}. */
    public int encoderBelowLowWatermarkCalls() {
        return encoderBelowLowCalls;
    }

    public int resetStreamCalls() {
        return resets;
    }

    public int clearRouteCacheCalls() {
        return clearRouteCacheCalls;
    }

    /** Calls to {@code onDecoderFilterAboveWriteBufferHighWatermark}. */
    public int decoderAboveHighWatermarkCalls() {
        return aboveHighCalls;
    }

    /** Calls to {@code onDecoderFilterBelowWriteBufferLowWatermark}. */
    public int decoderBelowLowWatermarkCalls() {
        return belowLowCalls;
    }

    /** Tells the filter's downstream watermark callbacks the downstream went above its high watermark. */
    public void downstreamAboveHighWatermark() {
        List.copyOf(downstreamWatermarks).forEach(WatermarkCallbacks::onAboveWriteBufferHighWatermark);
    }

    /** ... and back below its low watermark. */
    public void downstreamBelowLowWatermark() {
        List.copyOf(downstreamWatermarks).forEach(WatermarkCallbacks::onBelowWriteBufferLowWatermark);
    }

    /** The manual dispatcher, when the harness made it (the default). */
    public ManualDispatcher manualDispatcher() {
        if (dispatcher instanceof ManualDispatcher m) {
            return m;
        }
        throw new IllegalStateException("the dispatcher is a " + dispatcher.getClass().getName());
    }

    // ---- settings ----

    /** The route {@link #route()} returns ({@link #clearRouteCache()} only counts the call). */
    public HttpFilterHarness route(Route route) {
        this.route = route;
        return this;
    }

    /** The per-route config {@link #perRouteConfig(Class)} returns when of the asked type. */
    public HttpFilterHarness perRouteConfig(Object config) {
        this.perRouteConfig = config;
        return this;
    }

    public HttpFilterHarness clusterManager(ClusterManager clusterManager) {
        this.clusterManager = clusterManager;
        return this;
    }

    public HttpFilterHarness bufferLimit(int bytes) {
        this.bufferLimit = bytes;
        return this;
    }

    public HttpFilterHarness connectionId(long id) {
        this.connectionId = id;
        return this;
    }

    /** Calls the filter's {@code onDestroy()} once and frees held buffers. */
    @Override
    public void close() {
        if (!destroyed) {
            destroyed = true;
            filter.onDestroy();
        }
        if (decodingBuffer != null) {
            decodingBuffer.release();
            decodingBuffer = null;
        }
        if (encodingBuffer != null) {
            encodingBuffer.release();
            encodingBuffer = null;
        }
    }

    // HttpFilterCallbacks: stream

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
        return connectionId;
    }

    @Override
    public Route route() {
        return route;
    }

    @Override
    public void clearRouteCache() {
        clearRouteCacheCalls++;
    }

    @Override
    public <R> R perRouteConfig(Class<R> type) {
        return type.isInstance(perRouteConfig) ? type.cast(perRouteConfig) : null;
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

    // HttpFilterCallbacks: decoding

    @Override
    public void continueDecoding() {
        continueDecodingCalls++;
        if (heldDecodeHeaders != null) {
            decodedHeaders = heldDecodeHeaders;
            heldDecodeHeaders = null;
        }
        if (decodingBuffer != null) {
            copy(decodingBuffer, decodedBody);
            decodingBuffer.release();
            decodingBuffer = null;
        }
        if (heldDecodeTrailers != null) {
            decodedTrailers = heldDecodeTrailers;
            heldDecodeTrailers = null;
        }
    }

    @Override
    public ByteBuf decodingBuffer() {
        return decodingBuffer;
    }

    @Override
    public void addDecodedData(ByteBuf data) {
        try {
            copy(data, decodedBody);
        } finally {
            data.release();
        }
    }

    @Override
    public void sendLocalReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details) {
        if (encodedHeaders != null) {
            // As the host: response headers already went downstream, so the stream is reset instead.
            streamInfo.setResponseCodeDetails(details);
            resets++;
            return;
        }
        String b = body == null ? "" : body;
        TestHeaderMap headers = TestHeaderMap.of(HeaderMap.STATUS, Integer.toString(status));
        if (!b.isEmpty()) {
            headers.set("content-length", Integer.toString(b.getBytes(StandardCharsets.UTF_8).length));
            headers.set("content-type", "text/plain");
        }
        if (modifyHeaders != null) {
            modifyHeaders.accept(headers);
        }
        if (streamInfo instanceof TestStreamInfo t) {
            t.setResponseCode(status);
        }
        streamInfo.setResponseCodeDetails(details);
        // The reply passes through the encoder filters, this one included.
        heldEncodeHeaders = null;
        filter.encodeHeaders(headers, b.isEmpty());
        if (!b.isEmpty()) {
            ByteBuf data = Unpooled.copiedBuffer(b, StandardCharsets.UTF_8);
            try {
                filter.encodeData(data, true);
            } finally {
                data.release();
            }
        }
        sendHeadersDownstream(headers, true);
        encodedBody.reset();
        encodedBody.writeBytes(b.getBytes(StandardCharsets.UTF_8));
        responseComplete = true;
        localReplies.add(new LocalReply(status, b, headers, details));
    }

    /** Passes through the filter's {@code encodeHeaders} (as Envoy's encoder chain does), then downstream. */
    @Override
    public void encodeHeaders(HeaderMap headers, boolean endStream) {
        encodeResponseHeaders(headers, endStream);
    }

    /** Passes through the filter's {@code encodeData}, then downstream; {@code data} is transferred. */
    @Override
    public void encodeData(ByteBuf data, boolean endStream) {
        encodeResponseData(data, endStream);
    }

    @Override
    public void encodeTrailers(HeaderMap trailers) {
        encodeResponseTrailers(trailers);
    }

    @Override
    public void resetStream() {
        resets++;
    }

    @Override
    public void onDecoderFilterAboveWriteBufferHighWatermark() {
        aboveHighCalls++;
    }

    @Override
    public void onDecoderFilterBelowWriteBufferLowWatermark() {
        belowLowCalls++;
    }

    @Override
    public void addDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
        downstreamWatermarks.add(requireNonNull(callbacks, "callbacks"));
    }

    @Override
    public void removeDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
        downstreamWatermarks.remove(callbacks);
    }

    // HttpFilterCallbacks: encoding

    @Override
    public void continueEncoding() {
        continueEncodingCalls++;
        if (heldEncodeHeaders != null) {
            HeaderMap h = heldEncodeHeaders;
            heldEncodeHeaders = null;
            sendHeadersDownstream(h, heldEncodeEnd);
        }
        if (encodingBuffer != null) {
            copy(encodingBuffer, encodedBody);
            encodingBuffer.release();
            encodingBuffer = null;
        }
        if (heldEncodeTrailers != null) {
            encodedTrailers = heldEncodeTrailers;
            heldEncodeTrailers = null;
            responseComplete = true;
        }
    }

    @Override
    public ByteBuf encodingBuffer() {
        return encodingBuffer;
    }

    @Override
    public void addEncodedData(ByteBuf data) {
        try {
            copy(data, encodedBody);
        } finally {
            data.release();
        }
    }

    /** Records {@code data} (transferred, released here) as sent downstream, past the filter under test. */
    @Override
    public void injectEncodedDataToFilterChain(ByteBuf data, boolean endStream) {
        try {
            byte[] bytes = new byte[data.readableBytes()];
            data.getBytes(data.readerIndex(), bytes);
            injected.add(new Injected(bytes, endStream, dispatcher.currentTimeMillis()));
            if (heldEncodeHeaders != null) {
                HeaderMap h = heldEncodeHeaders;
                heldEncodeHeaders = null;
                sendHeadersDownstream(h, false);
            }
            encodedBody.writeBytes(bytes);
            responseComplete |= endStream;
        } finally {
            data.release();
        }
    }

    @Override
    public void onEncoderFilterAboveWriteBufferHighWatermark() {
        encoderAboveHighCalls++;
    }

    @Override
    public void onEncoderFilterBelowWriteBufferLowWatermark() {
        encoderBelowLowCalls++;
    }

    // ---- internals ----

    private void sendHeadersDownstream(HeaderMap headers, boolean endStream) {
        encodedHeaders = headers;
        responseComplete |= endStream;
    }

    private static void copy(ByteBuf from, ByteArrayOutputStream to) {
        byte[] bytes = new byte[from.readableBytes()];
        from.getBytes(from.readerIndex(), bytes);
        to.writeBytes(bytes);
    }

    /** A heap buffer outside Netty's leak tracking: the harness's own, so a test's leak report names the filter. */
    private static ByteBuf harnessBuffer(int initialCapacity) {
        return new UnpooledHeapByteBuf(UnpooledByteBufAllocator.DEFAULT, Math.max(16, initialCapacity), Integer.MAX_VALUE);
    }

    private void bufferDecoding(ByteBuf data) {
        if (decodingBuffer == null) {
            decodingBuffer = harnessBuffer(data.readableBytes());
        }
        decodingBuffer.writeBytes(data, data.readerIndex(), data.readableBytes());
    }

    private void bufferEncoding(ByteBuf data) {
        if (encodingBuffer == null) {
            encodingBuffer = harnessBuffer(data.readableBytes());
        }
        encodingBuffer.writeBytes(data, data.readerIndex(), data.readableBytes());
    }
}
