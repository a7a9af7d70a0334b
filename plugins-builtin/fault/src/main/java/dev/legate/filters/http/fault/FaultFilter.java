package dev.legate.filters.http.fault;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * {@code envoy.filters.http.fault} for one stream (Envoy's {@code FaultFilter},
 * source/extensions/filters/http/fault/fault_filter.cc): on the request headers it picks the settings (the route's
 * {@code typed_per_filter_config} entry, else the filter's own), checks {@code upstream_cluster},
 * {@code downstream_nodes} and {@code headers}, then in Envoy's order
 * <ol>
 *   <li>sets up a response rate limit ({@link StreamRateLimiter}) when selected;</li>
 *   <li>delays the request on a dispatcher timer (flag {@code DI}): headers held, body buffered with back-pressure,
 *       trailers held; when the timer fires the abort is drawn afresh, else decoding continues;</li>
 *   <li>or aborts at once: a local reply with the status, body {@code fault filter abort}, details
 *       {@code fault_filter_abort}, flag {@code FI}; a gRPC status answers a gRPC request with HTTP 200 and that
 *       {@code grpc-status} (trailers-only).</li>
 * </ol>
 * Each percentage is one independent draw. A stream counts once in {@code active_faults} from its first fault;
 * when {@code max_active_faults} are active the fault is skipped and {@code faults_overflow} counted.
 *
 * <p>Confined to the stream's event loop. A stream reset during the delay ends in {@link #onDestroy()}, which
 * cancels the timer (and the rate limiter's), so nothing is sent upstream.
 */
final class FaultFilter implements HttpFilter {

    /** Envoy's local reply body for an abort. */
    static final String ABORT_BODY = "fault filter abort";
    /** Envoy's response code details for an abort. */
    static final String ABORT_DETAILS = "fault_filter_abort";
    static final String DOWNSTREAM_SERVICE_CLUSTER = "x-envoy-downstream-service-cluster";
    static final String DOWNSTREAM_SERVICE_NODE = "x-envoy-downstream-service-node";

    private final FaultSettings listenerSettings;
    private final FaultStats stats;
    private final RandomGenerator random;
    private final HttpFilterCallbacks callbacks;

    private FaultSettings settings;
    private HeaderMap requestHeaders;
    /** {@code x-envoy-downstream-service-cluster} when non-empty and per-cluster stats are on; else {@code null}. */
    private String downstreamCluster;
    private boolean faultActive;
    private Dispatcher.Timer delayTimer;
    private StreamRateLimiter responseLimiter;
    private boolean destroyed;

    /**
     * @param listenerSettings the {@code http_filters} entry's settings
     * @param random           the draws for the percentages; the stream's event loop's own
     */
    FaultFilter(FaultSettings listenerSettings, FaultStats stats,
                RandomGenerator random, HttpFilterCallbacks callbacks) {
        this.listenerSettings = requireNonNull(listenerSettings, "listenerSettings");
        this.stats = requireNonNull(stats, "stats");
        this.random = requireNonNull(random, "random");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        FaultSettings routeSettings = callbacks.perRouteConfig(FaultSettings.class);
        settings = routeSettings != null ? routeSettings : listenerSettings;
        if (!matchesUpstreamCluster() || !matchesDownstreamNodes(headers) || !matchesHeaders(headers)) {
            return FilterHeadersStatus.CONTINUE;
        }
        requestHeaders = headers;
        String cluster = headers.get(DOWNSTREAM_SERVICE_CLUSTER);
        if (cluster != null && !cluster.isEmpty() && !settings.disableDownstreamClusterStats()) {
            downstreamCluster = cluster;
        }
        maybeSetupResponseRateLimit(headers);
        if (maybeSetupDelay(headers)) {
            return FilterHeadersStatus.STOP_ITERATION;
        }
        if (maybeAbort(headers)) {
            return FilterHeadersStatus.STOP_ITERATION; // the local reply may have ended the stream already
        }
        return FilterHeadersStatus.CONTINUE;
    }

    /** While delayed: keep the body, with back-pressure past the buffer limit (Envoy: StopIterationAndWatermark). */
    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        return delayTimer == null ? FilterDataStatus.CONTINUE : FilterDataStatus.STOP_ITERATION_AND_WATERMARK;
    }

    @Override
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        return delayTimer == null ? FilterTrailersStatus.CONTINUE : FilterTrailersStatus.STOP_ITERATION;
    }

    // StreamEncoderFilter

    /** With a response rate limit, the limiter takes the body and releases it at the rate. */
    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        if (responseLimiter == null) {
            return FilterDataStatus.CONTINUE;
        }
        responseLimiter.writeData(data, endStream);
        return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        if (responseLimiter != null && responseLimiter.onTrailers()) {
            return FilterTrailersStatus.STOP_ITERATION;
        }
        return FilterTrailersStatus.CONTINUE;
    }

    // HttpFilter

    @Override
    public void onDestroy() {
        destroyed = true;
        if (delayTimer != null) {
            delayTimer.cancel();
            delayTimer = null;
        }
        if (responseLimiter != null) {
            responseLimiter.destroy();
        }
        if (faultActive) {
            faultActive = false;
            stats.activeFaults.dec();
        }
    }

    // ---- matching

    private boolean matchesUpstreamCluster() {
        if (settings.upstreamCluster().isEmpty()) {
            return true;
        }
        Route route = callbacks.route();
        RouteEntry entry = route == null ? null : route.routeEntry();
        return entry != null && settings.upstreamCluster().equals(entry.clusterName());
    }

    private boolean matchesDownstreamNodes(HeaderMap headers) {
        if (settings.downstreamNodes().isEmpty()) {
            return true;
        }
        String node = headers.get(DOWNSTREAM_SERVICE_NODE);
        return node != null && settings.downstreamNodes().contains(node);
    }

    private boolean matchesHeaders(HeaderMap headers) {
        for (var m : settings.headers()) {
            if (!m.test(headers)) {
                return false;
            }
        }
        return true;
    }

    // ---- faults

    private void maybeSetupResponseRateLimit(HeaderMap headers) {
        FaultSettings.RateLimit rl = settings.responseRateLimit();
        if (rl == null || !rl.percentage(headers).evaluate(random)) {
            return;
        }
        long kbps = rl.kbps(headers);
        if (kbps <= 0 || !tryIncActiveFaults()) {
            return;
        }
        stats.responseRlInjected.inc();
        responseLimiter = new StreamRateLimiter(kbps, callbacks);
    }

    private boolean maybeSetupDelay(HeaderMap headers) {
        FaultSettings.Delay delay = settings.delay();
        if (delay == null || !delay.percentage(headers).evaluate(random)) {
            return false;
        }
        long millis = delay.millis(headers);
        if (millis <= 0 || !tryIncActiveFaults()) {
            return false;
        }
        delayTimer = callbacks.dispatcher().schedule(this::onDelayElapsed, millis, TimeUnit.MILLISECONDS);
        if (downstreamCluster != null) {
            stats.downstreamDelays(downstreamCluster).inc();
        }
        stats.delaysInjected.inc();
        callbacks.streamInfo().setResponseFlag(ResponseFlag.DELAY_INJECTED);
        return true;
    }

    private boolean maybeAbort(HeaderMap headers) {
        Abort abort = abortStatus(headers);
        if (abort == null || !tryIncActiveFaults()) {
            return false;
        }
        abortWith(abort);
        return true;
    }

    /** Envoy's {@code postDelayInjection}: the delay is over; abort (a fresh draw) or go on. */
    private void onDelayElapsed() {
        delayTimer = null;
        if (destroyed) {
            return;
        }
        Abort abort = abortStatus(requestHeaders);
        if (abort != null) {
            abortWith(abort);
            return;
        }
        // A pure delay stops counting as active once over, unless the response is being rate limited.
        if (responseLimiter == null && faultActive) {
            faultActive = false;
            stats.activeFaults.dec();
        }
        callbacks.continueDecoding();
    }

    /** The status to abort with, or {@code null}: an HTTP status wins; a gRPC status alone answers 200. */
    private Abort abortStatus(HeaderMap headers) {
        FaultSettings.Abort abort = settings.abort();
        if (abort == null || !abort.percentage(headers).evaluate(random)) {
            return null;
        }
        int http = abort.httpStatus(headers);
        if (http > 0) {
            return new Abort(http, -1);
        }
        long grpc = abort.grpcStatus(headers);
        return grpc >= 0 ? new Abort(200, grpc) : null;
    }

    private void abortWith(Abort abort) {
        if (downstreamCluster != null) {
            stats.downstreamAborts(downstreamCluster).inc();
        }
        stats.abortsInjected.inc();
        callbacks.streamInfo().setResponseFlag(ResponseFlag.FAULT_INJECTED);
        // Envoy passes the gRPC status to sendLocalReply, which uses it only for a gRPC request.
        Consumer<HeaderMap> grpcStatus = abort.grpcStatus >= 0 && GrpcCommon.isGrpcRequest(requestHeaders)
                ? h -> h.set(GrpcCommon.GRPC_STATUS, Long.toString(abort.grpcStatus)) : null;
        callbacks.sendLocalReply(abort.httpStatus, ABORT_BODY, grpcStatus, ABORT_DETAILS);
    }

    /** Envoy's {@code tryIncActiveFaults}: a stream counts once; a new fault is refused at the limit. */
    private boolean tryIncActiveFaults() {
        if (faultActive) {
            return true;
        }
        // Not compare-and-set: a fuzzy limit across event loops, as in Envoy.
        if (stats.activeFaults.value() >= settings.maxActiveFaults()) {
            stats.faultsOverflow.inc();
            return false;
        }
        stats.activeFaults.inc();
        faultActive = true;
        return true;
    }

    private record Abort(int httpStatus, long grpcStatus) {
    }
}
