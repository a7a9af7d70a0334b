package dev.legate.filters.http.router;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.Dispatcher;
import dev.legate.api.ResponseFlag;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpUpgrades;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.HttpConnectionPool;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.api.upstream.ResetReason;
import dev.legate.api.upstream.ResourceManager;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.api.upstream.UpstreamHttpStream;
import dev.legate.api.upstream.UpstreamResponseHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The router for one HTTP stream (Envoy's {@code Router::Filter}): routes the request, forwards it to a host of
 * the route's cluster through this event loop's connection pool, and relays the response; or answers locally
 * with Envoy's status, body, response flag and details when it cannot.
 *
 * <h2>Behaviour (Envoy's {@code router.cc})</h2>
 * <ul>
 *   <li>No route: 404, empty body, flag {@code NR}, details {@code route_not_found}, {@code http.<sp>.no_route}.</li>
 *   <li>{@code direct_response} / {@code redirect}: the configured status (and body, or {@code location}),
 *       details {@code direct_response}, {@code http.<sp>.rq_direct_response} / {@code rq_redirect}.</li>
 *   <li>Unknown cluster: {@code cluster_not_found_response_code}, empty body, {@code NC},
 *       {@code cluster_not_found}, {@code http.<sp>.no_cluster}.</li>
 *   <li>No host: 503 {@code no healthy upstream}, {@code UH}, {@code no_healthy_upstream},
 *       {@code cluster.<c>.upstream_cx_none_healthy}.</li>
 *   <li>{@code max_requests} reached: 503 with {@code x-envoy-overloaded: true} and the reset body with
 *       {@code reset reason: overflow}, {@code UO}, {@code cluster.<c>.upstream_rq_pending_overflow}.</li>
 *   <li>Reset or connect failure before response headers: 503 (502 for a protocol error)
 *       {@code upstream connect error or disconnect/reset before headers. [retried and the latest ]reset reason: <reason>[, transport failure reason: <detail>]},
 *       flag by reason ({@code UF}, {@code UC}, {@code LR}, {@code UR}, {@code UO}, {@code UPE}), details
 *       {@code upstream_reset_before_response_started{<reason>[|<detail>]}} with spaces as {@code _}. After the
 *       response started downstream, the downstream stream is reset instead.</li>
 *   <li>Global timeout ({@code timeout}, 15 s default, from the end of the downstream request): 504
 *       {@code upstream request timeout}, {@code UT}, {@code upstream_response_timeout},
 *       {@code cluster.<c>.upstream_rq_timeout} (also counted when it fires during a streamed response, which is
 *       then reset). Per-try timeout (from the attempt's stream being ready and the
 *       request complete): {@code upstream_rq_per_try_timeout}, then a retry or 504 with details
 *       {@code upstream_per_try_timeout}.</li>
 *   <li>Retries: {@code retry_on} / {@code x-envoy-retry-on}, {@code num_retries} / {@code x-envoy-max-retries},
 *       the cluster's {@code max_retries} breaker, fully jittered exponential back-off; a retried 5xx is never
 *       sent downstream and is charged under {@code cluster.<c>.retry.upstream_rq_<code>}.</li>
 *   <li>gRPC ({@code content-type} {@code application/grpc[+...]} and a {@code :path}, Envoy's
 *       {@code isGrpcRequestHeaders}): under the route's {@code max_grpc_timeout} the global timeout is the
 *       request's {@code grpc-timeout} (infinite when absent or malformed) less {@code grpc_timeout_offset}, capped
 *       at {@code max_grpc_timeout} (0: no cap), and {@code grpc-timeout} is rewritten upstream to what the attempt
 *       has (per try, and what is left on a retry). Under {@code max_stream_duration} the route's {@code timeout}
 *       does not apply; {@code grpc_timeout_header_max}/{@code grpc_timeout_header_offset} or
 *       {@code max_stream_duration} limit the stream (a timer Envoy keeps in the connection manager; here from
 *       this filter's {@code decodeHeaders}): 504 (408 before the request ended)
 *       {@code downstream duration timeout}, {@code grpc-status: 4}, details {@code max_duration_timeout},
 *       {@code http.<sp>.downstream_rq_max_duration_reached}. The host turns every local reply to a gRPC
 *       request into a trailers-only 200 with {@code grpc-status} mapped from the status (404 UNIMPLEMENTED,
 *       503/504 UNAVAILABLE, ...). The {@code retry_on} conditions {@code cancelled}, {@code deadline-exceeded},
 *       {@code internal}, {@code resource-exhausted}, {@code unavailable} (and {@code x-envoy-retry-grpc-on})
 *       fire on the {@code grpc-status} of response headers (a trailers-only answer), never on trailers.
 *       {@code suppress_grpc_request_failure_code_stats} drops {@code upstream_rq_<code>}/{@code <N>xx} of gRPC
 *       requests. Trailers pass both ways; request trailers are replayed on a retry.</li>
 *   <li>The request's {@code x-envoy-max-retries}, {@code x-envoy-retry-on}, {@code x-envoy-retry-grpc-on},
 *       {@code x-envoy-retriable-status-codes}, {@code x-envoy-upstream-rq-timeout-ms} and
 *       {@code x-envoy-upstream-rq-per-try-timeout-ms} are consumed and removed;
 *       {@code x-envoy-expected-rq-timeout-ms} is set upstream and {@code x-envoy-upstream-service-time} on the
 *       response, unless {@code suppress_envoy_headers}.</li>
 *   <li>Upgrades ({@code connection: upgrade} + {@code upgrade}, e.g. WebSocket): the global timeout runs from the
 *       request head until the upstream's {@code 101} and is off for the tunnel after it (Envoy's router since
 *       envoyproxy/envoy#41075); the stream idle timeout still applies.</li>
 * </ul>
 *
 * <h2>Threading and buffers</h2>
 * Confined to the stream's event loop; timers run on {@link HttpFilterCallbacks#dispatcher()}. Request body
 * chunks are borrowed: the router forwards a retained slice and, while a retry may need them (or the upstream
 * stream is not ready yet), keeps retained slices in one {@link CompositeByteBuf} bounded by
 * {@link HttpFilterCallbacks#bufferLimit()}. Past the limit retries are abandoned
 * ({@code cluster.<c>.retry_or_shadow_abandoned}) and, while no stream is ready, the downstream is paused.
 * Response buffers from upstream are transferred downstream or released. {@link #onDestroy()} releases
 * everything exactly once.
 */
public final class RouterFilter implements HttpFilter {

    static final String X_ENVOY_MAX_RETRIES = "x-envoy-max-retries";
    static final String X_ENVOY_RETRY_ON = "x-envoy-retry-on";
    static final String X_ENVOY_RETRY_GRPC_ON = "x-envoy-retry-grpc-on";
    static final String X_ENVOY_RETRIABLE_STATUS_CODES = "x-envoy-retriable-status-codes";
    static final String X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS = "x-envoy-upstream-rq-timeout-ms";
    static final String X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = "x-envoy-upstream-rq-per-try-timeout-ms";
    static final String X_ENVOY_EXPECTED_RQ_TIMEOUT_MS = "x-envoy-expected-rq-timeout-ms";
    static final String X_ENVOY_UPSTREAM_SERVICE_TIME = "x-envoy-upstream-service-time";
    static final String X_ENVOY_OVERLOADED = "x-envoy-overloaded";

    static final String UPSTREAM_REQUEST_TIMEOUT_BODY = "upstream request timeout";
    static final String NO_HEALTHY_UPSTREAM_BODY = "no healthy upstream";
    static final String RESET_BODY_PREFIX = "upstream connect error or disconnect/reset before headers. ";
    static final String DURATION_TIMEOUT_BODY = "downstream duration timeout";
    static final int GRPC_DEADLINE_EXCEEDED = 4;

    /** What a retry decision came to (Envoy's {@code RetryStatus}). */
    private enum RetryStatus { NO, YES, NO_OVERFLOW, NO_RETRY_LIMIT_EXCEEDED }

    private final RouterSettings settings;
    private final HttpFilterCallbacks callbacks;
    private final Dispatcher dispatcher;
    private final WatermarkCallbacks downstreamWatermarks = new DownstreamWatermarks();

    // The request.
    private HeaderMap requestHeaders;
    private HeaderMap requestTrailers;
    private RouteEntry routeEntry;
    private UpstreamCluster cluster;
    private RouterStats.ClusterMeters meters;
    private boolean downstreamEnded;
    /** Loop time when the downstream request completed; -1 before. */
    private long downstreamEndMillis = -1;
    private long globalTimeoutMillis;
    private long perTryTimeoutMillis;
    /** Envoy's {@code grpc_request_}: the request has a gRPC {@code content-type} and a {@code :path}. */
    private boolean grpcRequest;
    /** {@code suppress_grpc_request_failure_code_stats} applies: no {@code upstream_rq_<code>} for this request. */
    private boolean excludeCodeStats;
    /** The request asks for an upgrade; {@link #upgraded} once the upstream answered 101. */
    private boolean upgradeRequest;
    private boolean upgraded;

    // Request body: all bytes seen while buffering for retries; otherwise only the bytes no stream took yet.
    private CompositeByteBuf body;
    private boolean bufferingForRetry;
    /** Whether this filter paused the downstream because {@link #body} passed the buffer limit. */
    private boolean bodyAboveLimit;

    // Attempts.
    private RetryState retryState;
    private boolean retrySlotHeld;
    private boolean requestSlotHeld;
    private UpstreamRequest upstream;
    private int attempts;
    private Host lastHost;
    private LoadBalancerContext retryLbContext;
    private Dispatcher.Timer globalTimer;
    private Dispatcher.Timer backoffTimer;
    /** The route's {@code max_stream_duration} (Envoy's HCM stream timer, run here); {@code null} when none. */
    private Dispatcher.Timer durationTimer;

    // Downstream.
    private int downstreamAboveCount;
    private boolean watermarksRegistered;
    private boolean downstreamResponseStarted;
    /** The outcome is decided (a reply was sent or the upstream response completed): ignore what follows. */
    private boolean done;
    private boolean destroyed;

    RouterFilter(RouterSettings settings, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
        this.dispatcher = callbacks.dispatcher();
    }

    // StreamDecoderFilter

    /**
     * Routes the request and starts the first upstream attempt; always stops iteration (the router is the
     * last filter).
     */
    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        requestHeaders = headers;
        downstreamEnded = endStream;
        grpcRequest = GrpcCommon.isGrpcRequest(headers);
        excludeCodeStats = grpcRequest && settings.suppressGrpcRequestFailureCodeStats();
        settings.stats().rqTotal.inc();
        StreamInfo info = callbacks.streamInfo();

        Route route = callbacks.route();
        if (route == null || (route.routeEntry() == null && route.directResponseEntry() == null)) {
            settings.stats().noRoute.inc();
            info.setResponseFlag(ResponseFlag.NO_ROUTE_FOUND);
            localReply(404, "", null, "route_not_found");
            return FilterHeadersStatus.STOP_ITERATION;
        }
        DirectResponseEntry direct = route.directResponseEntry();
        if (direct != null) {
            sendDirectResponse(direct, headers);
            return FilterHeadersStatus.STOP_ITERATION;
        }

        routeEntry = route.routeEntry();
        String clusterName = routeEntry.clusterName();
        cluster = clusterName == null ? null : callbacks.clusterManager().cluster(clusterName);
        if (cluster == null) {
            settings.stats().noCluster.inc();
            info.setResponseFlag(ResponseFlag.NO_CLUSTER_FOUND);
            localReply(routeEntry.clusterNotFoundResponseCode(), "", null, "cluster_not_found");
            return FilterHeadersStatus.STOP_ITERATION;
        }
        info.setUpstreamCluster(cluster.name());
        meters = settings.stats().cluster(cluster);

        if (!settings.strictCheckHeaders().isEmpty() && !strictCheck(headers)) {
            return FilterHeadersStatus.STOP_ITERATION;
        }

        Host host = cluster.chooseHost(LoadBalancerContext.NONE);
        if (host == null) {
            sendNoHealthyUpstream();
            return FilterHeadersStatus.STOP_ITERATION;
        }
        ResourceManager resources = cluster.resourceManager();
        if (!resources.tryAcquireRequest()) {
            meters.rqPendingOverflow.inc();
            info.setUpstreamHost(host.addressString());
            sendUpstreamResetReply(ResetReason.OVERFLOW, "");
            return FilterHeadersStatus.STOP_ITERATION;
        }
        requestSlotHeld = true;

        prepareRequestHeaders(headers, info);
        bufferingForRetry = retryState != null && retryState.hasRetriesRemaining();
        if (endStream) {
            onRequestComplete();
        } else if (HttpUpgrades.isUpgrade(headers) && globalTimeoutMillis > 0) {
            // An upgrade's request does not end before the tunnel does: time the handshake instead.
            upgradeRequest = true;
            globalTimer = dispatcher.schedule(this::onGlobalTimeout, globalTimeoutMillis, TimeUnit.MILLISECONDS);
        } else {
            upgradeRequest = HttpUpgrades.isUpgrade(headers);
        }
        startAttempt(host);
        return FilterHeadersStatus.STOP_ITERATION;
    }

    /**
     * Streams a request body chunk to the upstream stream when it is ready, and keeps it (retained) while a
     * retry may need it or no stream is ready yet. The host releases its own reference.
     */
    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        if (done || destroyed || routeEntry == null) {
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
        if (endStream) {
            downstreamEnded = true;
        }
        UpstreamRequest req = upstream;
        if (req != null && req.stream != null) {
            if (bufferingForRetry) {
                appendToBody(data);
                if (bodyBytes() > callbacks.bufferLimit()) {
                    abandonRetries();
                }
            }
            req.stream.encodeData(data.retainedSlice(), endStream);
            if (endStream && req == upstream) {
                req.encodeComplete = true;
            }
        } else {
            appendToBody(data);
            if (bodyBytes() > callbacks.bufferLimit()) {
                if (bufferingForRetry) {
                    abandonRetries();
                    if (req == null) {
                        // Waiting out a back-off with a body too big to replay (Envoy: 507).
                        localReply(507, "exceeded request buffer limit while retrying upstream", null,
                                "request_payload_exceeded_retry_buffer_limit");
                        return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
                    }
                }
                if (!bodyAboveLimit) {
                    bodyAboveLimit = true;
                    callbacks.onDecoderFilterAboveWriteBufferHighWatermark();
                }
            }
        }
        if (endStream && !done && !destroyed) {
            onRequestComplete();
        }
        return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
    }

    /** Forwards the request trailers (now, or once a stream is ready); they end the request. */
    @Override
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        if (done || destroyed || routeEntry == null) {
            return FilterTrailersStatus.STOP_ITERATION;
        }
        requestTrailers = trailers;
        downstreamEnded = true;
        UpstreamRequest req = upstream;
        if (req != null && req.stream != null) {
            req.stream.encodeTrailers(trailers);
            if (req == upstream) {
                req.encodeComplete = true;
            }
        }
        if (!done && !destroyed) {
            onRequestComplete();
        }
        return FilterTrailersStatus.STOP_ITERATION;
    }

    // HttpFilter

    /**
     * Cancels a pending pool request, resets an unfinished upstream stream, cancels timers, releases the
     * request body and the circuit-breaker slots. Idempotent.
     */
    @Override
    public void onDestroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        cleanup();
        if (watermarksRegistered) {
            watermarksRegistered = false;
            callbacks.removeDownstreamWatermarkCallbacks(downstreamWatermarks);
        }
    }

    // Routing

    private void sendDirectResponse(DirectResponseEntry direct, HeaderMap headers) {
        int status = direct.responseCode();
        String location = direct.newLocation(headers);
        Route route = callbacks.route();
        if (route != null && route.config().hasRedirect()) {
            settings.stats().rqRedirect.inc();
        } else {
            // a direct_response (with a location when its status is 201 or 3xx, as Envoy adds one)
            settings.stats().rqDirectResponse.inc();
        }
        StreamInfo info = callbacks.streamInfo();
        boolean addLocation = location != null && (status == 201 || (status >= 300 && status < 400));
        localReply(status, direct.responseBody(), responseHeaders -> {
            if (addLocation) {
                responseHeaders.set("location", location);
            }
            direct.finalizeResponseHeaders(responseHeaders, info);
        }, "direct_response");
    }

    /**
     * Envoy's {@code strict_check_headers}: a listed header with a value Envoy would not parse answers 400.
     *
     * @return whether the request may go on
     */
    private boolean strictCheck(HeaderMap headers) {
        for (String name : settings.strictCheckHeaders()) {
            String value = headers.get(name);
            if (value == null) {
                continue;
            }
            boolean valid = switch (name) {
                case X_ENVOY_RETRY_ON -> RetryState.isValidRetryOn(value);
                case X_ENVOY_RETRY_GRPC_ON -> RetryState.isValidRetryGrpcOn(value);
                default -> RetryState.parseUnsigned(value) >= 0;
            };
            if (!valid) {
                localReply(400, "invalid header '" + name + "' with value '" + value + "'", null,
                        "request_headers_failed_strict_check{" + name + "}");
                return false;
            }
        }
        return true;
    }

    /**
     * Consumes the {@code x-envoy-*} timeout and retry headers, sets {@code x-envoy-expected-rq-timeout-ms} (and
     * {@code grpc-timeout} under {@code max_grpc_timeout}), arms the route's {@code max_stream_duration}, then
     * applies the route's request rewrites (Envoy's {@code FilterUtility::finalTimeout},
     * {@code ActiveStream::refreshDurationTimeout} and {@code finalizeRequestHeaders}).
     */
    private void prepareRequestHeaders(HeaderMap headers, StreamInfo info) {
        RouteEntry.MaxStreamDuration duration = routeEntry.maxStreamDuration();
        if (duration != null) {
            globalTimeoutMillis = 0; // Envoy's "new timeouts": the route's timeout does not apply
            armStreamDuration(duration, headers);
        } else if (grpcRequest && routeEntry.maxGrpcTimeoutMillis() >= 0) {
            globalTimeoutMillis = grpcTimeout(headers);
        } else {
            globalTimeoutMillis = routeEntry.timeoutMillis();
        }
        perTryTimeoutMillis = routeEntry.retryPolicy().perTryTimeoutMillis();
        long headerTimeout = -1;
        if (settings.respectExpectedRqTimeout()) {
            headerTimeout = RetryState.parseUnsigned(headers.get(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS));
        }
        if (headerTimeout < 0) {
            headerTimeout = RetryState.parseUnsigned(headers.get(X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS));
        }
        if (headerTimeout >= 0) {
            globalTimeoutMillis = headerTimeout;
        }
        long headerPerTry = RetryState.parseUnsigned(headers.get(X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS));
        if (headerPerTry >= 0) {
            perTryTimeoutMillis = headerPerTry;
        }
        if (perTryTimeoutMillis >= globalTimeoutMillis && globalTimeoutMillis != 0) {
            perTryTimeoutMillis = 0;
        }
        retryState = RetryState.create(routeEntry.retryPolicy(), headers);

        headers.remove(X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
        headers.remove(X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
        headers.remove(X_ENVOY_RETRY_ON);
        headers.remove(X_ENVOY_RETRY_GRPC_ON);
        headers.remove(X_ENVOY_MAX_RETRIES);
        headers.remove(X_ENVOY_RETRIABLE_STATUS_CODES);
        setTimeoutHeaders(0);
        routeEntry.finalizeRequestHeaders(headers, info);
    }

    /**
     * Envoy's {@code finalTimeout} for a gRPC request under {@code max_grpc_timeout}: the {@code grpc-timeout}
     * header (infinite, 0, when absent or invalid), less {@code grpc_timeout_offset} when that leaves it positive,
     * capped at {@code max_grpc_timeout} unless that is 0.
     */
    private long grpcTimeout(HeaderMap headers) {
        long max = routeEntry.maxGrpcTimeoutMillis();
        long timeout = Math.max(0, GrpcCommon.timeoutMillis(headers));
        long offset = routeEntry.grpcTimeoutOffsetMillis();
        if (offset > 0 && offset < timeout) {
            timeout -= offset;
        }
        if (max != 0 && (timeout == 0 || timeout > max)) {
            timeout = max;
        }
        return timeout;
    }

    /**
     * Envoy's {@code setTimeoutHeaders}: the time the upstream has, the per-try timeout (or else the global one)
     * bounded by what is left of the global timeout {@code elapsedMillis} after the request completed, goes into
     * {@code x-envoy-expected-rq-timeout-ms} (unless {@code suppress_envoy_headers}) and, for a gRPC request on a
     * route with {@code max_grpc_timeout}, into {@code grpc-timeout}. Nothing is written for an infinite timeout.
     */
    private void setTimeoutHeaders(long elapsedMillis) {
        long expected = perTryTimeoutMillis != 0 ? perTryTimeoutMillis : globalTimeoutMillis;
        if (expected <= 0) {
            return;
        }
        if (globalTimeoutMillis > 0) {
            expected = elapsedMillis >= globalTimeoutMillis ? 1 : Math.min(expected, globalTimeoutMillis - elapsedMillis);
        }
        if (!settings.suppressEnvoyHeaders()) {
            requestHeaders.set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, Long.toString(expected));
        }
        if (grpcRequest && routeEntry.maxStreamDuration() == null && routeEntry.maxGrpcTimeoutMillis() >= 0) {
            requestHeaders.set(GrpcCommon.GRPC_TIMEOUT, GrpcCommon.formatTimeout(expected));
        }
    }

    /**
     * The route's {@code max_stream_duration} (Envoy's {@code ActiveStream::refreshDurationTimeout}, which Envoy
     * runs in the connection manager): with {@code grpc_timeout_header_max} and a valid {@code grpc-timeout} the
     * limit is that header capped at the max (0: no cap) less {@code grpc_timeout_header_offset} (0 or less: at
     * once); otherwise {@code max_stream_duration.max_stream_duration} (0 or unset: none). A gRPC request's
     * {@code grpc-timeout} is rewritten to the limit. Legate measures it from this filter's {@code decodeHeaders},
     * not from the first byte of the stream.
     */
    private void armStreamDuration(RouteEntry.MaxStreamDuration duration, HeaderMap headers) {
        long grpcTimeout = GrpcCommon.timeoutMillis(headers);
        long timeout;
        if (grpcTimeout < 0 || duration.grpcTimeoutHeaderMaxMillis() < 0) {
            timeout = duration.maxStreamDurationMillis();
            if (timeout <= 0) {
                return; // 0 disables it; unset falls back to the HCM's max_stream_duration, which Legate refuses
            }
        } else {
            timeout = grpcTimeout;
            long max = duration.grpcTimeoutHeaderMaxMillis();
            if (max != 0 && timeout > max) {
                timeout = max;
            }
            long offset = duration.grpcTimeoutHeaderOffsetMillis();
            if (timeout != 0 && offset >= 0) {
                timeout = offset < timeout ? timeout - offset : 0;
            }
        }
        if (grpcRequest) {
            headers.set(GrpcCommon.GRPC_TIMEOUT, GrpcCommon.formatTimeout(timeout));
        }
        durationTimer = dispatcher.schedule(this::onStreamDurationReached, timeout, TimeUnit.MILLISECONDS);
    }

    /** The downstream request is complete: arm the global timeout and the current attempt's per-try timeout. */
    private void onRequestComplete() {
        if (downstreamEndMillis >= 0) {
            return;
        }
        downstreamEndMillis = dispatcher.currentTimeMillis();
        if (globalTimeoutMillis > 0 && globalTimer == null && !upgraded) {
            globalTimer = dispatcher.schedule(this::onGlobalTimeout, globalTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        UpstreamRequest req = upstream;
        if (req != null && req.stream != null) {
            req.encodeComplete = true;
            req.startPerTryTimer();
        }
    }

    // Attempts

    private void startAttempt(Host host) {
        attempts++;
        lastHost = host;
        callbacks.streamInfo().setUpstreamHost(host.addressString());
        if (routeEntry.autoHostRewrite() && !host.hostname().isEmpty()) {
            requestHeaders.set(HeaderMap.AUTHORITY, host.hostname());
        }
        UpstreamRequest req = new UpstreamRequest(host, dispatcher.currentTimeMillis());
        upstream = req;
        meters.rqTotal.inc();
        meters.rqActive.inc();
        HttpConnectionPool pool = cluster.httpConnectionPool(host, dispatcher);
        Cancellable handle = pool.newStream(req, req);
        if (req.poolPending && req == upstream) {
            req.poolHandle = handle;
        }
    }

    /**
     * Ends the current attempt: cancels its pool request or resets its stream (when {@code resetStream}),
     * cancels its per-try timer, undoes its watermark effects, logs it.
     */
    private void finishAttempt(boolean resetStream) {
        UpstreamRequest req = upstream;
        if (req == null) {
            return;
        }
        upstream = null;
        if (req.poolHandle != null) {
            Cancellable handle = req.poolHandle;
            req.poolHandle = null;
            req.poolPending = false;
            handle.cancel();
        }
        req.cancelPerTryTimer();
        UpstreamHttpStream stream = req.stream;
        req.stream = null;
        if (stream != null) {
            if (resetStream) {
                stream.reset();
            } else {
                for (; req.readDisables > 0; req.readDisables--) {
                    stream.readDisable(false);
                }
            }
        }
        if (req.aboveHighWatermark) {
            req.aboveHighWatermark = false;
            if (!destroyed) {
                callbacks.onDecoderFilterBelowWriteBufferLowWatermark();
            }
        }
        meters.rqActive.dec();
        if (settings.upstreamLog() != null) {
            settings.upstreamLog().log(requestHeaders, req.responseHeaders, req.responseTrailers,
                    callbacks.streamInfo());
        }
    }

    /**
     * Decides a retry (Envoy's {@code RetryStateImpl::shouldRetry}); on {@link RetryStatus#YES} the back-off
     * timer is armed and the retry slot held until the next decision.
     */
    private RetryStatus shouldRetry(boolean wouldRetry) {
        if (retrySlotHeld && !wouldRetry) {
            meters.rqRetrySuccess.inc();
        }
        releaseRetrySlot();
        if (!wouldRetry) {
            return RetryStatus.NO;
        }
        if (!retryState.takeRetry()) {
            meters.rqRetryLimitExceeded.inc();
            return RetryStatus.NO_RETRY_LIMIT_EXCEEDED;
        }
        if (!cluster.resourceManager().tryAcquireRetry()) {
            meters.rqRetryOverflow.inc();
            return RetryStatus.NO_OVERFLOW;
        }
        retrySlotHeld = true;
        meters.rqRetry.inc();
        meters.rqRetryBackoffExponential.inc();
        backoffTimer = dispatcher.schedule(this::doRetry, retryState.nextBackOffMillis(), TimeUnit.MILLISECONDS);
        return RetryStatus.YES;
    }

    /** After a final "no" to retrying: flag why, and drop the retry state (Envoy's {@code retry_state_.reset()}). */
    private void noMoreRetries(RetryStatus status) {
        if (status == RetryStatus.NO_OVERFLOW) {
            callbacks.streamInfo().setResponseFlag(ResponseFlag.UPSTREAM_OVERFLOW);
        } else if (status == RetryStatus.NO_RETRY_LIMIT_EXCEEDED) {
            callbacks.streamInfo().setResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
        }
        retryState = null;
        releaseRetrySlot();
        stopBufferingForRetry();
    }

    private void doRetry() {
        backoffTimer = null;
        if (done || destroyed) {
            return;
        }
        if (retryLbContext == null) {
            retryLbContext = new LoadBalancerContext() {
                @Override
                public boolean shouldSelectAnotherHost(Host host) {
                    return lastHost != null && host.addressString().equals(lastHost.addressString());
                }

                /** Up to three more picks to move off the host that just failed. */
                @Override
                public int hostSelectionRetryCount() {
                    return 3;
                }
            };
        }
        Host host = cluster.chooseHost(retryLbContext);
        if (host == null) {
            sendNoHealthyUpstream();
            return;
        }
        setTimeoutHeaders(downstreamEndMillis < 0 ? 0 : dispatcher.currentTimeMillis() - downstreamEndMillis);
        startAttempt(host);
    }

    private void releaseRetrySlot() {
        if (retrySlotHeld) {
            retrySlotHeld = false;
            cluster.resourceManager().releaseRetry();
        }
    }

    // Request body

    private void appendToBody(ByteBuf data) {
        if (!data.isReadable()) {
            return;
        }
        if (body == null) {
            body = data.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        body.addComponent(true, data.retainedSlice());
    }

    private int bodyBytes() {
        return body == null ? 0 : body.readableBytes();
    }

    /** Body past the buffer limit: no retry can replay it (Envoy's {@code retry_or_shadow_abandoned}). */
    private void abandonRetries() {
        meters.retryOrShadowAbandoned.inc();
        retryState = null;
        releaseRetrySlot();
        stopBufferingForRetry();
    }

    /** Stops keeping sent bytes; bytes no stream has taken yet stay in {@link #body}. */
    private void stopBufferingForRetry() {
        if (!bufferingForRetry) {
            return;
        }
        bufferingForRetry = false;
        UpstreamRequest req = upstream;
        if (req != null && req.stream != null) {
            releaseBody(); // all of it was sent to the ready stream
        }
    }

    private void releaseBody() {
        if (body != null) {
            CompositeByteBuf b = body;
            body = null;
            b.release();
        }
    }

    // Responses and failures

    private void onUpstreamHeaders(UpstreamRequest req, HeaderMap headers, boolean endStream) {
        int status = headers.status();
        req.responseHeaders = headers;
        if (status == 101 && upgradeRequest && !endStream) {
            // The upgrade is done: the route timeout covered the handshake only.
            upgraded = true;
            if (globalTimer != null) {
                globalTimer.cancel();
                globalTimer = null;
            }
        }
        if (retryState != null) {
            RetryStatus retry = shouldRetry(retryState.wouldRetryFromHeaders(status, headers));
            if (retry == RetryStatus.YES) {
                chargeCode(status, true);
                finishAttempt(!(endStream && req.encodeComplete));
                return;
            }
            noMoreRetries(retry);
        }
        chargeCode(status, false);
        if (!settings.suppressEnvoyHeaders() && downstreamEndMillis >= 0) {
            headers.set(X_ENVOY_UPSTREAM_SERVICE_TIME,
                    Long.toString(Math.max(0, dispatcher.currentTimeMillis() - downstreamEndMillis)));
        }
        StreamInfo info = callbacks.streamInfo();
        routeEntry.finalizeResponseHeaders(headers, info);
        info.setResponseCodeDetails("via_upstream");
        downstreamResponseStarted = true;
        req.cancelPerTryTimer();
        if (endStream) {
            onUpstreamComplete(req);
        }
        callbacks.encodeHeaders(headers, endStream);
    }

    private void onUpstreamData(UpstreamRequest req, ByteBuf data, boolean endStream) {
        if (!downstreamResponseStarted) {
            data.release();
            return;
        }
        if (endStream) {
            onUpstreamComplete(req);
        }
        callbacks.encodeData(data, endStream);
    }

    private void onUpstreamTrailers(UpstreamRequest req, HeaderMap trailers) {
        if (!downstreamResponseStarted) {
            return;
        }
        req.responseTrailers = trailers;
        onUpstreamComplete(req);
        callbacks.encodeTrailers(trailers);
    }

    /** The upstream response ended: charge it and release everything before the last byte goes downstream. */
    private void onUpstreamComplete(UpstreamRequest req) {
        if (settings.dynamicStats()) {
            meters.rqCompleted.inc();
            meters.rqTime.record(Math.max(0, dispatcher.currentTimeMillis() - req.startMillis));
        }
        // An HTTP/1.1 request not fully sent cannot leave its connection reusable.
        finishAttempt(!req.encodeComplete);
        done = true;
        cleanup();
    }

    private void onUpstreamReset(UpstreamRequest req, ResetReason reason, String transportFailure) {
        if (downstreamResponseStarted) {
            settings.stats().rqResetAfterDownstreamResponseStarted.inc();
            callbacks.streamInfo().setResponseFlag(flagOf(reason));
            done = true;
            cleanup();
            callbacks.resetStream();
            return;
        }
        if (retryState != null) {
            RetryStatus retry = shouldRetry(retryState.wouldRetryFromReset(reason, req.headersSent));
            if (retry == RetryStatus.YES) {
                return;
            }
            noMoreRetries(retry);
        }
        sendUpstreamResetReply(reason, transportFailure == null ? "" : transportFailure);
    }

    private void onPerTryTimeout(UpstreamRequest req) {
        req.perTryTimer = null;
        if (req != upstream || downstreamResponseStarted || done || destroyed) {
            return; // once the response started, only the global timeout applies (Envoy)
        }
        meters.rqPerTryTimeout.inc();
        finishAttempt(true);
        if (retryState != null) {
            RetryStatus retry = shouldRetry(retryState.wouldRetryFromPerTryTimeout());
            if (retry == RetryStatus.YES) {
                return;
            }
            noMoreRetries(retry);
        }
        chargeCode(504, false);
        callbacks.streamInfo().setResponseFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
        localReply(504, UPSTREAM_REQUEST_TIMEOUT_BODY, null, "upstream_per_try_timeout");
    }

    private void onGlobalTimeout() {
        globalTimer = null;
        if (done || destroyed) {
            return;
        }
        StreamInfo info = callbacks.streamInfo();
        info.setResponseFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
        if (upstream != null) {
            meters.rqTimeout.inc(); // also once the response started (Envoy: a bidi stream's timeout counts)
        }
        if (downstreamResponseStarted) {
            info.setResponseCodeDetails("upstream_response_timeout");
            done = true;
            cleanup();
            callbacks.resetStream();
            return;
        }
        finishAttempt(true);
        chargeCode(504, false);
        localReply(504, UPSTREAM_REQUEST_TIMEOUT_BODY, null, "upstream_response_timeout");
    }

    /**
     * The route's {@code max_stream_duration} passed (Envoy's {@code ActiveStream::onStreamMaxDurationReached}):
     * {@code http.<sp>.downstream_rq_max_duration_reached}, then 504 (408 while the request is still arriving)
     * {@code downstream duration timeout} with details {@code max_duration_timeout} and, for gRPC,
     * {@code grpc-status: 4} (DEADLINE_EXCEEDED); once the response started, the host resets the stream instead.
     */
    private void onStreamDurationReached() {
        durationTimer = null;
        if (done || destroyed) {
            return;
        }
        settings.stats().rqMaxDurationReached.inc();
        Consumer<HeaderMap> deadlineExceeded = grpcRequest
                ? h -> h.set(GrpcCommon.GRPC_STATUS, Integer.toString(GRPC_DEADLINE_EXCEEDED)) : null;
        localReply(downstreamEnded ? 504 : 408, DURATION_TIMEOUT_BODY, deadlineExceeded, "max_duration_timeout");
    }

    private void sendNoHealthyUpstream() {
        meters.cxNoneHealthy.inc();
        chargeCode(503, false);
        callbacks.streamInfo().setResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
        localReply(503, NO_HEALTHY_UPSTREAM_BODY, null, "no_healthy_upstream");
    }

    /** Envoy's {@code onUpstreamReset} local reply: 503 (502 for a protocol error) with the reset body. */
    private void sendUpstreamResetReply(ResetReason reason, String transportFailure) {
        callbacks.streamInfo().setResponseFlag(flagOf(reason));
        int status = reason == ResetReason.PROTOCOL_ERROR ? 502 : 503;
        String body = resetBody(reason, transportFailure, attempts > 1);
        String details = resetDetails(reason, transportFailure);
        chargeCode(status, false);
        Consumer<HeaderMap> overloaded = reason == ResetReason.OVERFLOW && !settings.suppressEnvoyHeaders()
                ? h -> h.set(X_ENVOY_OVERLOADED, "true") : null;
        localReply(status, body, overloaded, details);
    }

    /**
     * Charges {@code upstream_rq_<code>} / {@code upstream_rq_<N>xx} (or their {@code retry.} twins) when
     * {@code dynamic_stats} is on and {@code suppress_grpc_request_failure_code_stats} does not exclude this gRPC
     * request (Envoy's {@code chargeUpstreamCode} with {@code exclude_http_code_stats_}).
     */
    private void chargeCode(int status, boolean retried) {
        if (meters != null && settings.dynamicStats() && !excludeCodeStats) {
            meters.chargeResponseCode(status, retried);
        }
    }

    static String resetBody(ResetReason reason, String transportFailure, boolean retried) {
        StringBuilder sb = new StringBuilder(RESET_BODY_PREFIX);
        if (retried) {
            sb.append("retried and the latest ");
        }
        sb.append("reset reason: ").append(reason.text());
        if (!transportFailure.isEmpty()) {
            sb.append(", transport failure reason: ").append(transportFailure);
        }
        return sb.toString();
    }

    static String resetDetails(ResetReason reason, String transportFailure) {
        String raw = "upstream_reset_before_response_started{" + reason.text()
                + (transportFailure.isEmpty() ? "" : "|" + transportFailure) + "}";
        return raw.replaceAll("\\s", "_");
    }

    /** Envoy's reset-reason → response-flag mapping. */
    static ResponseFlag flagOf(ResetReason reason) {
        return switch (reason) {
            case LOCAL_CONNECTION_FAILURE, REMOTE_CONNECTION_FAILURE, CONNECTION_TIMEOUT ->
                    ResponseFlag.UPSTREAM_CONNECTION_FAILURE;
            case CONNECTION_TERMINATION -> ResponseFlag.UPSTREAM_CONNECTION_TERMINATION;
            case LOCAL_RESET -> ResponseFlag.LOCAL_RESET;
            case OVERFLOW -> ResponseFlag.UPSTREAM_OVERFLOW;
            case REMOTE_RESET, REMOTE_REFUSED_STREAM_RESET -> ResponseFlag.UPSTREAM_REMOTE_RESET;
            case PROTOCOL_ERROR -> ResponseFlag.UPSTREAM_PROTOCOL_ERROR;
        };
    }

    /** Decides the outcome, releases everything, then answers locally (which may destroy this filter). */
    private void localReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details) {
        done = true;
        cleanup();
        if (!destroyed) {
            callbacks.sendLocalReply(status, body, modifyHeaders, details);
        }
    }

    /** Releases timers, the current attempt, the body and the breaker slots. Idempotent. */
    private void cleanup() {
        if (globalTimer != null) {
            globalTimer.cancel();
            globalTimer = null;
        }
        if (backoffTimer != null) {
            backoffTimer.cancel();
            backoffTimer = null;
        }
        if (durationTimer != null) {
            durationTimer.cancel();
            durationTimer = null;
        }
        finishAttempt(true);
        releaseBody();
        bufferingForRetry = false;
        if (cluster != null) {
            releaseRetrySlot();
            if (requestSlotHeld) {
                requestSlotHeld = false;
                cluster.resourceManager().releaseRequest();
            }
        }
        if (bodyAboveLimit) {
            bodyAboveLimit = false;
            if (!destroyed) {
                callbacks.onDecoderFilterBelowWriteBufferLowWatermark();
            }
        }
    }

    /** Pauses the upstream response while the downstream connection's write buffer is full. */
    private final class DownstreamWatermarks implements WatermarkCallbacks {
        @Override
        public void onAboveWriteBufferHighWatermark() {
            downstreamAboveCount++;
            UpstreamRequest req = upstream;
            if (req != null && req.stream != null) {
                req.readDisables++;
                req.stream.readDisable(true);
            }
        }

        @Override
        public void onBelowWriteBufferLowWatermark() {
            if (downstreamAboveCount == 0) {
                return;
            }
            downstreamAboveCount--;
            UpstreamRequest req = upstream;
            if (req != null && req.stream != null && req.readDisables > 0) {
                req.readDisables--;
                req.stream.readDisable(false);
            }
        }
    }

    /**
     * One attempt (Envoy's {@code UpstreamRequest}): the pool request, then the stream and its response.
     * Callbacks for an attempt that is no longer current are ignored (buffers released).
     */
    private final class UpstreamRequest implements UpstreamResponseHandler, HttpConnectionPool.PoolCallbacks {
        final Host host;
        final long startMillis;
        boolean poolPending = true;
        Cancellable poolHandle;
        UpstreamHttpStream stream;
        boolean headersSent;
        boolean encodeComplete;
        boolean aboveHighWatermark;
        int readDisables;
        Dispatcher.Timer perTryTimer;
        HeaderMap responseHeaders;
        HeaderMap responseTrailers;

        UpstreamRequest(Host host, long startMillis) {
            this.host = host;
            this.startMillis = startMillis;
        }

        private boolean isCurrent() {
            return this == upstream && !destroyed && !done;
        }

        void startPerTryTimer() {
            if (perTryTimeoutMillis > 0 && perTryTimer == null) {
                perTryTimer = dispatcher.schedule(() -> onPerTryTimeout(this), perTryTimeoutMillis,
                        TimeUnit.MILLISECONDS);
            }
        }

        void cancelPerTryTimer() {
            if (perTryTimer != null) {
                perTryTimer.cancel();
                perTryTimer = null;
            }
        }

        // HttpConnectionPool.PoolCallbacks

        @Override
        public void onPoolReady(UpstreamHttpStream readyStream, Host readyHost) {
            poolPending = false;
            poolHandle = null;
            if (!isCurrent()) {
                readyStream.reset();
                return;
            }
            stream = readyStream;
            if (readyHost != null) {
                callbacks.streamInfo().setUpstreamHost(readyHost.addressString());
            }
            if (!watermarksRegistered) {
                watermarksRegistered = true;
                callbacks.addDownstreamWatermarkCallbacks(downstreamWatermarks);
            }
            for (int i = readDisables; i < downstreamAboveCount; i++) {
                readDisables++;
                readyStream.readDisable(true);
            }
            boolean hasBody = body != null && body.isReadable();
            boolean ended = downstreamEnded;
            headersSent = true;
            readyStream.encodeHeaders(requestHeaders, ended && !hasBody && requestTrailers == null);
            if (!isCurrent()) {
                return;
            }
            if (hasBody) {
                ByteBuf toSend;
                if (bufferingForRetry) {
                    toSend = body.retainedDuplicate();
                } else {
                    toSend = body;
                    body = null;
                }
                readyStream.encodeData(toSend, ended && requestTrailers == null);
                if (!isCurrent()) {
                    return;
                }
            } else if (!bufferingForRetry) {
                releaseBody();
            }
            if (ended && requestTrailers != null) {
                readyStream.encodeTrailers(requestTrailers);
                if (!isCurrent()) {
                    return;
                }
            }
            if (ended) {
                encodeComplete = true;
                startPerTryTimer();
            }
            if (bodyAboveLimit) {
                bodyAboveLimit = false;
                callbacks.onDecoderFilterBelowWriteBufferLowWatermark();
            }
        }

        @Override
        public void onPoolFailure(ResetReason reason, String transportFailure, Host failedHost) {
            poolPending = false;
            poolHandle = null;
            if (!isCurrent()) {
                return;
            }
            if (failedHost != null) {
                callbacks.streamInfo().setUpstreamHost(failedHost.addressString());
            }
            finishAttempt(false);
            onUpstreamReset(this, reason, transportFailure);
        }

        // UpstreamResponseHandler

        @Override
        public void onHeaders(HeaderMap headers, boolean endStream) {
            if (isCurrent()) {
                onUpstreamHeaders(this, headers, endStream);
            }
        }

        @Override
        public void onData(ByteBuf data, boolean endStream) {
            if (!isCurrent()) {
                data.release();
                return;
            }
            onUpstreamData(this, data, endStream);
        }

        @Override
        public void onTrailers(HeaderMap trailers) {
            if (isCurrent()) {
                onUpstreamTrailers(this, trailers);
            }
        }

        @Override
        public void onReset(ResetReason reason, String transportFailure) {
            if (!isCurrent()) {
                return;
            }
            stream = null; // dead: nothing to reset
            finishAttempt(false);
            onUpstreamReset(this, reason, transportFailure);
        }

        @Override
        public void onAboveWriteBufferHighWatermark() {
            if (isCurrent() && !aboveHighWatermark) {
                aboveHighWatermark = true;
                callbacks.onDecoderFilterAboveWriteBufferHighWatermark();
            }
        }

        @Override
        public void onBelowWriteBufferLowWatermark() {
            if (isCurrent() && aboveHighWatermark) {
                aboveHighWatermark = false;
                callbacks.onDecoderFilterBelowWriteBufferLowWatermark();
            }
        }
    }
}
