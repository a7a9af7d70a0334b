package dev.legate.filters.http.grpc.stats;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.stats.Stats;
import dev.legate.filters.http.grpc.GrpcClusterStats;
import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.GrpcCommon.RequestNames;
import dev.legate.filters.http.grpc.GrpcFrameDecoder;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterObject;
import io.netty.buffer.ByteBuf;

/**
 * {@code envoy.filters.http.grpc_stats} for one stream (Envoy's {@code GrpcStatsFilter},
 * source/extensions/filters/http/grpc_stats/grpc_stats_filter.cc). Never changes the stream.
 *
 * <p>For a gRPC request ({@code :path} and content type {@code application/grpc[+...]}) routed to a known cluster
 * whose path is {@code /service/method}, it charges {@code cluster.<name>.grpc.<service>.<method>.*} — or, for a
 * method not counted by name ({@link GrpcStatsSettings#statNames}), {@code cluster.<name>.grpc.*}:
 * <ul>
 *   <li>{@code <grpc-status>}, {@code success}/{@code failure} and {@code total} from the {@code grpc-status} of a
 *       trailers-only response's headers or of the trailers;</li>
 *   <li>{@code request_message_count} / {@code response_message_count}: gRPC frames, counted as each starts
 *       (a frame split across chunks counts once); response frames only on a gRPC response;</li>
 *   <li>{@code upstream_rq_time} with {@code enable_upstream_stats}: from the end of the request passing this
 *       filter to the end of the response reaching it, when an upstream host was chosen (Envoy measures from the
 *       last byte sent upstream to the last received; Legate's stream info has no upstream timing, so this filter
 *       takes its own two points, in milliseconds of the event loop's clock ({@code Dispatcher.currentTimeMillis()}) —
 *       put it next to the router for the closest figure).</li>
 * </ul>
 * With {@code emit_filter_state} the counts are kept in the stream's filter state under
 * {@link GrpcStatsSettings#FILTER_STATE} ({@code FilterObject}), written once the first message is seen.
 *
 * <p>Confined to the stream's event loop; holds no buffers.
 */
final class GrpcStatsFilter implements HttpFilter {

    private final GrpcStatsSettings settings;
    private final HttpFilterCallbacks callbacks;

    private boolean grpcRequest;
    private boolean grpcResponse;
    private boolean doStatTracking;
    private Stats cluster;
    private RequestNames names;
    /** Made for a gRPC request / response only, so that other traffic costs nothing. */
    private GrpcFrameDecoder requestFrames;
    private GrpcFrameDecoder responseFrames;
    private long requestEndMillis = -1;
    private boolean upstreamCharged;

    GrpcStatsFilter(GrpcStatsSettings settings, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        grpcRequest = GrpcCommon.isGrpcRequest(headers);
        if (grpcRequest) {
            requestFrames = new GrpcFrameDecoder();
            cluster = GrpcClusterStats.clusterScope(callbacks);
            RequestNames fromPath = cluster == null ? null : GrpcCommon.resolveServiceAndMethod(headers.path());
            if (fromPath != null) {
                // Counted even when not by name: then in the bucket without service and method.
                doStatTracking = true;
                names = settings.statNames(fromPath);
            }
        }
        if (endStream) {
            requestEndMillis = callbacks.dispatcher().currentTimeMillis();
        }
        return FilterHeadersStatus.CONTINUE;
    }

    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        if (grpcRequest) {
            long delta = requestFrames.inspect(data);
            if (delta > 0) {
                maybeWriteFilterState();
                if (doStatTracking) {
                    GrpcClusterStats.chargeRequestMessages(cluster, names, delta);
                }
            }
        }
        if (endStream) {
            requestEndMillis = callbacks.dispatcher().currentTimeMillis();
        }
        return FilterDataStatus.CONTINUE;
    }

    @Override
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        requestEndMillis = callbacks.dispatcher().currentTimeMillis();
        return FilterTrailersStatus.CONTINUE;
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        grpcResponse = GrpcCommon.isGrpcResponseHeaders(headers, endStream);
        if (grpcResponse && responseFrames == null) {
            responseFrames = new GrpcFrameDecoder();
        }
        if (doStatTracking) {
            GrpcClusterStats.chargeStatus(cluster, GrpcClusterStats.Protocol.GRPC, names,
                    headers.get(GrpcCommon.GRPC_STATUS));
            if (endStream) {
                maybeChargeUpstreamStat();
            }
        }
        return FilterHeadersStatus.CONTINUE;
    }

    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        if (grpcResponse) {
            long delta = responseFrames.inspect(data);
            if (delta > 0) {
                maybeWriteFilterState();
                if (doStatTracking) {
                    GrpcClusterStats.chargeResponseMessages(cluster, names, delta);
                }
            }
        }
        return FilterDataStatus.CONTINUE;
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        if (grpcRequest && doStatTracking) {
            GrpcClusterStats.chargeStatus(cluster, GrpcClusterStats.Protocol.GRPC, names,
                    trailers.get(GrpcCommon.GRPC_STATUS));
            maybeChargeUpstreamStat();
        }
        return FilterTrailersStatus.CONTINUE;
    }

    // ---- internals

    private void maybeWriteFilterState() {
        if (!settings.emitFilterState()) {
            return;
        }
        callbacks.streamInfo().setState(GrpcStatsSettings.FILTER_STATE, FilterObject.newBuilder()
                .setRequestMessageCount(requestFrames == null ? 0 : requestFrames.frameCount())
                .setResponseMessageCount(responseFrames == null ? 0 : responseFrames.frameCount())
                .build());
    }

    private void maybeChargeUpstreamStat() {
        if (!settings.enableUpstreamStats() || upstreamCharged || requestEndMillis < 0
                || callbacks.streamInfo().upstreamHost() == null) {
            return;
        }
        upstreamCharged = true;
        long millis = callbacks.dispatcher().currentTimeMillis() - requestEndMillis;
        GrpcClusterStats.chargeUpstreamTime(cluster, names, Math.max(0, millis));
    }
}
