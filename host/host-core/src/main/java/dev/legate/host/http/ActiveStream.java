package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.http.HttpUpgrades;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.host.stream.StreamInfoImpl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP stream (request + response) and its filter chain: Envoy's {@code ConnectionManagerImpl::ActiveStream}
 * and {@code FilterManager} (source/common/http/conn_manager_impl.cc, filter_manager.cc). Decoder filters run in
 * {@code http_filters} order, encoder filters in reverse; stop/continue/buffer follow Envoy's
 * {@code ActiveStreamFilterBase} rules.
 *
 * <p>Confined to the connection's event loop. Buffer ownership: data handed to {@code iterateData} is owned by
 * the iteration; it is lent to each filter for the call, kept in the direction's {@link CompositeByteBuf} when a
 * filter buffers, and released when it falls off the chain end (request side), is written (response side), or
 * the stream ends.
 */
final class ActiveStream {

    private static final Logger log = LoggerFactory.getLogger(ActiveStream.class);

    static final int CALL_HEADERS = 1;
    static final int CALL_DATA = 2;
    static final int CALL_TRAILERS = 4;
    private static final int MAX_COMPONENTS = 1024;
    private static final ActiveFilter[] NO_FILTERS = new ActiveFilter[0];

    /** A filter's iteration state in one direction (Envoy's {@code IterationState}). */
    enum IterState { CONTINUE, STOP_SINGLE, STOP_ALL_BUFFER, STOP_ALL_WATERMARK }

    /** Per filter, per direction. */
    static final class FilterState {
        IterState state = IterState.CONTINUE;
        boolean headersContinued;
        boolean iterateFromCurrent;
        boolean endStream;

        boolean stoppedAll() {
            return state == IterState.STOP_ALL_BUFFER || state == IterState.STOP_ALL_WATERMARK;
        }
    }

    /** One direction of the stream: decode (request) or encode (response). */
    static final class Dir {
        final boolean decode;
        CompositeByteBuf buffered;
        HeaderMap headers;
        HeaderMap trailers;
        int callState;
        boolean streaming;
        boolean aboveLimit;
        /** Data a filter added while in its own data callback (merged after it returns). */
        CompositeByteBuf addedInDataCall;

        Dir(boolean decode) {
            this.decode = decode;
        }
    }

    final ServerCodecConnection connection;
    final HttpConnectionManagerConfig config;
    final ConnectionManagerStats stats;
    final StreamInfoImpl info;
    final Dispatcher dispatcher;
    final Dir dec = new Dir(true);
    final Dir enc = new Dir(false);
    ActiveFilter[] filters = NO_FILTERS;

    NettyHeaderMap requestHeaders;
    boolean head;
    boolean grpc;
    boolean sawConnectionClose;
    /** The codec delivered the end of the request. */
    boolean remoteComplete;
    /** The end of the response entered the encoder chain. */
    boolean localComplete;
    /** Response headers (non-1xx) went to the codec. */
    boolean headersWritten;
    /** The end of the response went to the codec. */
    boolean codecComplete;
    /** A local reply or reset ended request iteration. */
    boolean decoderAborted;
    boolean destroyed;
    /**
     * The request asks for an upgrade ({@link HttpUpgrades#upgradeType}) and the route or the HCM's
     * {@code upgrade_configs} allow it: counted in {@code downstream_cx_upgrades_*}; a {@code 101} answer turns the
     * stream into a byte tunnel in its codec.
     */
    boolean upgradeAccepted;
    /** The request asks for an upgrade that is not allowed: answered 403 {@code upgrade_failed}. */
    private boolean upgradeRejected;

    private Route route;
    private boolean routeCached;
    private long lastActivityNanos;
    private long idleTimeoutMillis;
    private Dispatcher.Timer idleTimer;
    private Dispatcher.Timer requestTimer;
    private int readDisables;
    private List<WatermarkCallbacks> watermarkCallbacks;

    ActiveStream(ServerCodecConnection connection, HttpConnectionManagerConfig config,
                 ConnectionManagerStats stats, StreamInfoImpl info, Dispatcher dispatcher) {
        this.connection = connection;
        this.config = config;
        this.stats = stats;
        this.info = info;
        this.dispatcher = dispatcher;
        this.lastActivityNanos = connection.nanoTime();
        stats.rqTotal.inc();
        stats.rqActive.inc();
        armTimers();
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Builds one filter per {@code http_filters} entry (Envoy's {@code DownstreamFilterManager::createFilterChain}).
     * For an upgrade request the route (then the HCM) decides whether the upgrade is allowed (Envoy's
     * {@code createUpgradeFilterChain}); a refused one gets the default chain and a 403 in
     * {@link #decodeHeadersFromCodec}.
     */
    void createFilterChain() {
        String upgradeType = requestHeaders == null ? null : HttpUpgrades.upgradeType(requestHeaders);
        if (upgradeType != null) {
            // A plain CONNECT is an upgrade of type "connect" (Envoy uses the method); Legate refuses CONNECT
            // in upgrade_configs at start-up, so unless a route enables it, it is answered 403 upgrade_failed.
            Route r = route();
            RouteEntry e = r == null ? null : r.routeEntry();
            if (Upgrades.allowed(upgradeType, e == null ? null : e.upgradeMap(), config.upgradeConfigs())) {
                upgradeAccepted = true;
                stats.cxUpgradesTotal.inc();
                stats.cxUpgradesActive.inc();
            } else {
                upgradeRejected = true;
            }
        }
        List<HttpFilterChainEntry> chain = config.filterChain();
        ActiveFilter[] fs = new ActiveFilter[chain.size()];
        for (int i = 0; i < fs.length; i++) {
            fs[i] = new ActiveFilter(this, i, chain.get(i).name());
        }
        filters = fs;
        for (int i = 0; i < fs.length; i++) {
            fs[i].filter = chain.get(i).installer().newFilter(fs[i]);
        }
    }

    private void armTimers() {
        idleTimeoutMillis = config.streamIdleTimeoutMillis();
        if (idleTimeoutMillis > 0) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, idleTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        long rq = config.requestTimeoutMillis();
        if (rq > 0) {
            requestTimer = dispatcher.schedule(this::onRequestTimeout, rq, TimeUnit.MILLISECONDS);
        }
    }

    void touch() {
        lastActivityNanos = connection.nanoTime();
    }

    private void onIdleTimer() {
        idleTimer = null;
        if (destroyed || idleTimeoutMillis <= 0) {
            return;
        }
        long idleFor = TimeUnit.NANOSECONDS.toMillis(connection.nanoTime() - lastActivityNanos);
        if (idleFor < idleTimeoutMillis) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, idleTimeoutMillis - idleFor, TimeUnit.MILLISECONDS);
            return;
        }
        stats.rqIdleTimeout.inc();
        info.setResponseFlag(ResponseFlag.STREAM_IDLE_TIMEOUT);
        sendLocalReply(408, "stream timeout", null, "stream_idle_timeout");
    }

    private void onRequestTimeout() {
        requestTimer = null;
        if (destroyed) {
            return;
        }
        stats.rqTimeout.inc();
        sendLocalReply(408, "request timeout", null, "request_overall_timeout");
    }

    void disarmRequestTimer() {
        if (requestTimer != null) {
            requestTimer.cancel();
            requestTimer = null;
        }
    }

    /** The route's {@code idle_timeout} replaces the stream idle timeout once routed (0 disables). */
    private void applyRouteIdleTimeout(Route r) {
        RouteEntry e = r == null ? null : r.routeEntry();
        if (e == null || e.idleTimeoutMillis() < 0 || e.idleTimeoutMillis() == idleTimeoutMillis) {
            return;
        }
        idleTimeoutMillis = e.idleTimeoutMillis();
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
        if (idleTimeoutMillis > 0 && !destroyed) {
            idleTimer = dispatcher.schedule(this::onIdleTimer, idleTimeoutMillis, TimeUnit.MILLISECONDS);
        }
    }

    // ---------------------------------------------------------------- route

    Route route() {
        if (!routeCached) {
            routeCached = true;
            route = requestHeaders == null ? null : config.route(requestHeaders, info);
            if (route != null) {
                info.setRouteName(route.name());
            }
            applyRouteIdleTimeout(route);
        }
        return route;
    }

    void clearRouteCache() {
        routeCached = false;
        route = null;
    }

    // ---------------------------------------------------------------- from the codec

    /** Request headers from the codec, after sanitation; runs the decoder chain. */
    void decodeHeadersFromCodec(boolean endStream) {
        touch();
        remoteComplete = endStream;
        dec.headers = requestHeaders;
        if (upgradeRejected) {
            // Envoy's ConnectionManagerImpl::ActiveStream::decodeHeaders: no filter sees the request.
            stats.rqWsOnNonWsRoute.inc();
            sendLocalReply(403, "", null, "upgrade_failed");
            return;
        }
        iterateHeaders(dec, null, requestHeaders, endStream);
    }

    /** A request body chunk from the codec; {@code data} is transferred. */
    void decodeDataFromCodec(ByteBuf data, boolean endStream) {
        touch();
        info.addBytesReceived(data.readableBytes());
        if (endStream) {
            remoteComplete = true;
        }
        if (destroyed || decoderAborted || filters.length == 0) {
            data.release();
            if (endStream && !destroyed) {
                disarmRequestTimer();
            }
            return;
        }
        iterateData(dec, null, false, data, endStream);
    }

    /** Request trailers from the codec (HTTP/2; HTTP/1.1 drops them as Envoy does by default). */
    void decodeTrailersFromCodec(HeaderMap trailers) {
        touch();
        remoteComplete = true;
        if (destroyed || decoderAborted || filters.length == 0) {
            if (!destroyed) {
                disarmRequestTimer();
            }
            return;
        }
        dec.trailers = trailers;
        iterateTrailers(dec, null, trailers);
    }

    /** The peer reset the stream (HTTP/2 RST_STREAM): like a closed connection, for this stream only. */
    void onResetFromCodec() {
        onConnectionClosed();
    }

    // ---------------------------------------------------------------- generic iteration

    private ActiveFilter at(Dir d, int pos) {
        return d.decode ? filters[pos] : filters[filters.length - 1 - pos];
    }

    private int pos(Dir d, ActiveFilter f) {
        return d.decode ? f.index : filters.length - 1 - f.index;
    }

    static FilterState st(Dir d, ActiveFilter f) {
        return d.decode ? f.decState : f.encState;
    }

    private boolean complete(Dir d) {
        return d.decode ? remoteComplete : localComplete;
    }

    /** Whether iteration in {@code d} must stop (Envoy's {@code stopDecoderFilterChain} and friends). */
    boolean stopChain(Dir d) {
        return destroyed || codecComplete || (d.decode && decoderAborted);
    }

    private int startPos(Dir d, ActiveFilter from, boolean canStartFromCurrent) {
        if (from == null) {
            return 0;
        }
        FilterState s = st(d, from);
        return canStartFromCurrent && s.iterateFromCurrent ? pos(d, from) : pos(d, from) + 1;
    }

    void iterateHeaders(Dir d, ActiveFilter from, HeaderMap headers, boolean endStream) {
        if (stopChain(d)) {
            return;
        }
        int n = filters.length;
        int continueDataPos = -1;
        for (int p = from == null ? 0 : pos(d, from) + 1; p < n; p++) {
            ActiveFilter f = at(d, p);
            FilterState s = st(d, f);
            s.endStream = endStream && continueDataPos < 0;
            FilterHeadersStatus status;
            d.callState |= CALL_HEADERS;
            try {
                status = d.decode ? f.filter.decodeHeaders(headers, s.endStream)
                        : f.filter.encodeHeaders(headers, s.endStream);
            } finally {
                d.callState &= ~CALL_HEADERS;
            }
            if (stopChain(d)) {
                return;
            }
            boolean cont = afterHeaders(s, status);
            if (!cont && (!d.decode || p != n - 1)) {
                if (!d.decode && s.endStream) {
                    return;
                }
                maybeContinueData(d, continueDataPos);
                return;
            }
            if (endStream && d.buffered != null && continueDataPos < 0) {
                continueDataPos = p;
            }
        }
        boolean end = endStream && continueDataPos < 0;
        if (d.decode) {
            if (endStream) {
                disarmRequestTimer();
            }
        } else {
            writeHeaders(headers, end);
            if (stopChain(d)) {
                return;
            }
        }
        maybeContinueData(d, continueDataPos);
    }

    private void maybeContinueData(Dir d, int continueDataPos) {
        if (continueDataPos >= 0 && !stopChain(d)) {
            ActiveFilter f = at(d, continueDataPos);
            st(d, f).state = IterState.STOP_SINGLE;
            commonContinue(d, f);
        }
    }

    private static boolean afterHeaders(FilterState s, FilterHeadersStatus status) {
        switch (status) {
            case STOP_ITERATION -> s.state = IterState.STOP_SINGLE;
            case STOP_ALL_ITERATION_AND_BUFFER -> s.state = IterState.STOP_ALL_BUFFER;
            case STOP_ALL_ITERATION_AND_WATERMARK -> s.state = IterState.STOP_ALL_WATERMARK;
            default -> s.headersContinued = true;
        }
        return s.state == IterState.CONTINUE;
    }

    /** Iterates {@code data} (transferred) from {@code from} on. */
    void iterateData(Dir d, ActiveFilter from, boolean canStartFromCurrent, ByteBuf data, boolean endStream) {
        if (stopChain(d)) {
            data.release();
            return;
        }
        int n = filters.length;
        for (int p = startPos(d, from, canStartFromCurrent); p < n; p++) {
            ActiveFilter f = at(d, p);
            FilterState s = st(d, f);
            if (s.stoppedAll()) {
                d.streaming = s.state == IterState.STOP_ALL_WATERMARK;
                bufferData(d, data);
                return;
            }
            if (s.endStream) {
                data.release();
                return;
            }
            s.endStream = endStream && d.trailers == null;
            FilterDataStatus status;
            d.callState |= CALL_DATA;
            try {
                status = d.decode ? f.filter.decodeData(data, s.endStream) : f.filter.encodeData(data, s.endStream);
            } catch (RuntimeException e) {
                data.release();
                releaseAdded(d);
                throw e;
            } finally {
                d.callState &= ~CALL_DATA;
            }
            if (stopChain(d)) {
                data.release();
                releaseAdded(d);
                return;
            }
            CompositeByteBuf added = d.addedInDataCall;
            d.addedInDataCall = null;
            if (status == FilterDataStatus.CONTINUE) {
                if (added != null) {
                    data = concat(data, added);
                }
                if (s.state == IterState.STOP_SINGLE) {
                    bufferData(d, data);
                    commonContinue(d, f);
                    return;
                }
                continue;
            }
            s.state = IterState.STOP_SINGLE;
            if (status == FilterDataStatus.STOP_ITERATION_AND_BUFFER
                    || status == FilterDataStatus.STOP_ITERATION_AND_WATERMARK) {
                d.streaming = status == FilterDataStatus.STOP_ITERATION_AND_WATERMARK;
                bufferData(d, data);
                if (added != null && !stopChain(d)) {
                    bufferData(d, added);
                } else if (added != null) {
                    added.release();
                }
            } else {
                data.release();
                if (added != null) {
                    bufferData(d, added);
                } else if (complete(d) && d.trailers == null && d.buffered == null) {
                    // Keep an (empty) buffer so that continue carries the end of the stream.
                    d.buffered = connection.alloc().compositeBuffer(MAX_COMPONENTS);
                }
            }
            if (d.decode && p == n - 1 && endStream && !stopChain(d)) {
                // The terminal filter took the end of the request (Envoy goes on past the last filter).
                disarmRequestTimer();
            }
            return;
        }
        if (d.decode) {
            data.release();
            if (endStream) {
                disarmRequestTimer();
            }
        } else {
            writeData(data, endStream);
        }
    }

    private static void releaseAdded(Dir d) {
        if (d.addedInDataCall != null) {
            d.addedInDataCall.release();
            d.addedInDataCall = null;
        }
    }

    private ByteBuf concat(ByteBuf first, ByteBuf second) {
        CompositeByteBuf c = connection.alloc().compositeBuffer(MAX_COMPONENTS);
        c.addComponent(true, first);
        c.addComponent(true, second);
        return c;
    }

    void iterateTrailers(Dir d, ActiveFilter from, HeaderMap trailers) {
        if (stopChain(d)) {
            return;
        }
        int n = filters.length;
        for (int p = startPos(d, from, true); p < n; p++) {
            ActiveFilter f = at(d, p);
            FilterState s = st(d, f);
            if (s.stoppedAll()) {
                return;
            }
            FilterTrailersStatus status;
            d.callState |= CALL_TRAILERS;
            try {
                status = d.decode ? f.filter.decodeTrailers(trailers) : f.filter.encodeTrailers(trailers);
            } finally {
                d.callState &= ~CALL_TRAILERS;
            }
            s.endStream = true;
            if (stopChain(d)) {
                return;
            }
            if (status == FilterTrailersStatus.CONTINUE) {
                if (s.state == IterState.STOP_SINGLE) {
                    commonContinue(d, f);
                    return;
                }
            } else {
                if (s.state == IterState.CONTINUE) {
                    s.state = IterState.STOP_SINGLE;
                }
                return;
            }
        }
        if (d.decode) {
            disarmRequestTimer();
        } else {
            writeTrailers(trailers);
        }
    }

    /** Envoy's {@code ActiveStreamFilterBase::commonContinue}: resume after {@code f}. */
    void commonContinue(Dir d, ActiveFilter f) {
        if (stopChain(d)) {
            return;
        }
        FilterState s = st(d, f);
        if (s.state == IterState.CONTINUE && s.headersContinued) {
            return; // nothing is held at this filter
        }
        if (s.stoppedAll()) {
            s.iterateFromCurrent = true;
        }
        s.state = IterState.CONTINUE;
        if (!s.headersContinued) {
            s.headersContinued = true;
            iterateHeaders(d, f, d.headers, complete(d) && d.buffered == null && d.trailers == null);
        }
        boolean hadTrailers = d.trailers != null;
        if (d.buffered != null && !stopChain(d)) {
            ByteBuf b = detachBuffer(d);
            iterateData(d, f, true, b, complete(d) && !hadTrailers);
        }
        if (hadTrailers && !stopChain(d)) {
            iterateTrailers(d, f, d.trailers);
        }
        s.iterateFromCurrent = false;
    }

    private ByteBuf detachBuffer(Dir d) {
        ByteBuf b = d.buffered;
        d.buffered = null;
        if (d.aboveLimit) {
            d.aboveLimit = false;
            belowLimit(d);
        }
        return b;
    }

    /** Keeps {@code data} (transferred) in the direction's buffer; enforces the buffer limit. */
    void bufferData(Dir d, ByteBuf data) {
        if (d.buffered == null) {
            d.buffered = connection.alloc().compositeBuffer(MAX_COMPONENTS);
        }
        if (data.isReadable()) {
            d.buffered.addComponent(true, data);
        } else {
            data.release();
        }
        int limit = connection.bufferLimit();
        if (limit > 0 && d.buffered.readableBytes() > limit && !d.aboveLimit) {
            if (d.streaming) {
                d.aboveLimit = true;
                aboveLimit(d);
            } else if (d.decode) {
                stats.rqTooLarge.inc();
                sendLocalReply(413, "Payload Too Large", null, "request_payload_too_large");
            } else {
                stats.rsTooLarge.inc();
                sendLocalReply(500, "Internal Server Error", null, "response_payload_too_large");
            }
        }
    }

    private void aboveLimit(Dir d) {
        if (d.decode) {
            readDisable(true);
        } else {
            fireWatermark(true);
        }
    }

    private void belowLimit(Dir d) {
        if (d.decode) {
            readDisable(false);
        } else {
            fireWatermark(false);
        }
    }

    /** {@code addDecodedData}/{@code addEncodedData} (Envoy's {@code FilterManager::addDecodedData}). */
    void addData(Dir d, ActiveFilter f, ByteBuf data) {
        if (stopChain(d)) {
            data.release();
            return;
        }
        FilterState s = st(d, f);
        if ((d.callState & CALL_DATA) != 0) {
            if (d.addedInDataCall == null) {
                d.addedInDataCall = connection.alloc().compositeBuffer(MAX_COMPONENTS);
            }
            d.addedInDataCall.addComponent(true, data);
        } else if (d.callState == 0 || (d.callState & CALL_HEADERS) != 0
                || ((d.callState & CALL_TRAILERS) != 0 && s.state != IterState.CONTINUE)) {
            bufferData(d, data);
        } else {
            iterateData(d, f, false, data, false);
        }
    }

    /**
     * {@code injectEncodedDataToFilterChain} (Envoy's {@code ActiveStreamEncoderFilter::injectEncodedDataToFilterChain}):
     * {@code data} (transferred) goes to the filters after {@code f}, headers first if {@code f} still holds them.
     */
    void injectData(Dir d, ActiveFilter f, ByteBuf data, boolean endStream) {
        if (stopChain(d) || d.headers == null) {
            data.release();
            return;
        }
        touch();
        FilterState s = st(d, f);
        if (!s.headersContinued) {
            s.headersContinued = true;
            iterateHeaders(d, f, d.headers, false);
        }
        iterateData(d, f, false, data, endStream);
    }

    // ---------------------------------------------------------------- encode entry points (decoder side)

    void encodeHeaders(HeaderMap headers, boolean endStream) {
        if (destroyed || codecComplete) {
            return;
        }
        touch();
        int status = headers.status();
        if (status >= 100 && status < 200 && status != 101) {
            connection.write1xx(this, headers);
            return;
        }
        if (enc.headers != null) {
            log.warn("stream on connection {}: response headers encoded twice; ignored", connection.id());
            return;
        }
        enc.headers = headers;
        localComplete = endStream;
        iterateHeaders(enc, null, headers, endStream);
    }

    void encodeData(ByteBuf data, boolean endStream) {
        if (destroyed || codecComplete || enc.headers == null || localComplete) {
            data.release();
            return;
        }
        touch();
        localComplete = endStream;
        iterateData(enc, null, false, data, endStream);
    }

    void encodeTrailers(HeaderMap trailers) {
        if (destroyed || codecComplete || enc.headers == null || localComplete) {
            return;
        }
        touch();
        enc.trailers = trailers;
        localComplete = true;
        iterateTrailers(enc, null, trailers);
    }

    // ---------------------------------------------------------------- codec writes

    private void writeHeaders(HeaderMap headers, boolean endStream) {
        if (headersWritten) {
            return;
        }
        headersWritten = true;
        disarmRequestTimer();
        touch();
        config.mutateResponseHeaders(headers, requestHeaders, info);
        int status = headers.status();
        info.setResponseCode(status);
        stats.chargeResponseCode(status);
        connection.writeResponseHeaders(this, headers, endStream);
        if (endStream) {
            onCodecComplete();
        }
    }

    private void writeData(ByteBuf data, boolean endStream) {
        if (!headersWritten || codecComplete) {
            data.release();
            return;
        }
        touch();
        info.addBytesSent(data.readableBytes());
        connection.writeResponseData(this, data, endStream);
        if (endStream) {
            onCodecComplete();
        }
    }

    private void writeTrailers(HeaderMap trailers) {
        if (!headersWritten || codecComplete) {
            return;
        }
        connection.writeResponseTrailers(this, trailers);
        onCodecComplete();
    }

    private void onCodecComplete() {
        codecComplete = true;
        stats.rqCompleted.inc();
        destroy();
    }

    // ---------------------------------------------------------------- local replies and resets

    /** Envoy's {@code FilterManager::sendLocalReply}: via the filter chain, directly, or a reset. */
    void sendLocalReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details) {
        if (destroyed) {
            return;
        }
        if (body == null) {
            body = "";
        }
        info.setResponseCodeDetails(details);
        if (enc.headers == null) {
            decoderAborted = true;
            disarmRequestTimer();
            NettyHeaderMap h = new NettyHeaderMap();
            boolean hasBody = LocalReplies.prepare(h, status, body, modifyHeaders, grpc, head);
            encodeHeaders(h, !hasBody);
            if (hasBody && !destroyed && !codecComplete && !localComplete) {
                encodeData(ByteBufUtil.writeUtf8(connection.alloc(), body), true);
            }
        } else if (!headersWritten) {
            // Headers are held in the encoder chain: bypass it (Envoy's sendDirectLocalReply).
            decoderAborted = true;
            releaseBuffer(enc);
            NettyHeaderMap h = new NettyHeaderMap();
            boolean hasBody = LocalReplies.prepare(h, status, body, modifyHeaders, grpc, head);
            enc.headers = h;
            enc.trailers = null;
            localComplete = true;
            writeHeaders(h, !hasBody);
            if (hasBody && !destroyed && !codecComplete) {
                writeData(ByteBufUtil.writeUtf8(connection.alloc(), body), true);
            }
        } else {
            resetStream();
        }
    }

    /** Resets the stream: on HTTP/1.1 the connection closes without flushing, on HTTP/2 RST_STREAM. */
    void resetStream() {
        if (destroyed) {
            return;
        }
        stats.rqTxReset.inc();
        info.setResponseFlag(ResponseFlag.LOCAL_RESET);
        decoderAborted = true;
        destroy();
        connection.resetStream(this);
    }

    /** The connection closed under the stream. */
    void onConnectionClosed() {
        if (destroyed) {
            return;
        }
        stats.rqRxReset.inc();
        info.setResponseFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION);
        if (info.responseCodeDetails() == null) {
            info.setResponseCodeDetails("downstream_remote_disconnect");
        }
        decoderAborted = true;
        destroy();
    }

    private void releaseBuffer(Dir d) {
        if (d.buffered != null) {
            d.buffered.release();
            d.buffered = null;
        }
        releaseAdded(d);
        d.aboveLimit = false;
    }

    /** Ends the stream: timers, access log, filters' onDestroy, buffers, read-disables. Idempotent. */
    void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        if (idleTimer != null) {
            idleTimer.cancel();
            idleTimer = null;
        }
        disarmRequestTimer();
        stats.rqActive.dec();
        if (upgradeAccepted) {
            stats.cxUpgradesActive.dec();
        }
        stats.rqTimeMs.record(info.durationMillis());
        try {
            config.onStreamComplete(requestHeaders, enc.headers, enc.trailers, info);
        } catch (RuntimeException e) {
            log.warn("onStreamComplete failed on connection {}", connection.id(), e);
        }
        for (ActiveFilter f : filters) {
            if (f.filter != null) {
                try {
                    f.filter.onDestroy();
                } catch (RuntimeException e) {
                    log.warn("filter {} onDestroy failed on connection {}", f.name, connection.id(), e);
                }
            }
        }
        releaseBuffer(dec);
        releaseBuffer(enc);
        while (readDisables > 0) {
            readDisables--;
            connection.readDisable(this, false);
        }
        watermarkCallbacks = null;
        connection.onStreamDestroyed(this);
    }

    // ---------------------------------------------------------------- flow control

    void readDisable(boolean disable) {
        if (destroyed) {
            return;
        }
        if (disable) {
            readDisables++;
            stats.flowControlPausedReading.inc();
            connection.readDisable(this, true);
        } else if (readDisables > 0) {
            readDisables--;
            stats.flowControlResumedReading.inc();
            connection.readDisable(this, false);
        }
    }

    void addWatermarkCallbacks(WatermarkCallbacks cb) {
        if (destroyed) {
            return;
        }
        if (watermarkCallbacks == null) {
            watermarkCallbacks = new ArrayList<>(2);
        }
        watermarkCallbacks.add(cb);
        if (connection.aboveHighWatermark()) {
            cb.onAboveWriteBufferHighWatermark();
        }
    }

    void removeWatermarkCallbacks(WatermarkCallbacks cb) {
        if (watermarkCallbacks != null) {
            watermarkCallbacks.remove(cb);
        }
    }

    /** The downstream write buffer crossed a watermark. */
    void fireWatermark(boolean above) {
        if (watermarkCallbacks == null) {
            return;
        }
        for (WatermarkCallbacks cb : List.copyOf(watermarkCallbacks)) {
            if (above) {
                cb.onAboveWriteBufferHighWatermark();
            } else {
                cb.onBelowWriteBufferLowWatermark();
            }
        }
    }
}
