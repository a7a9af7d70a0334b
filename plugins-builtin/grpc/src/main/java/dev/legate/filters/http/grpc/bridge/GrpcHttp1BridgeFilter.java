package dev.legate.filters.http.grpc.bridge;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.GrpcCommon;
import dev.legate.filters.http.grpc.GrpcSupport;
import dev.legate.filters.http.grpc.GrpcFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * {@code envoy.filters.http.grpc_http1_bridge} for one stream (Envoy's {@code Http1BridgeFilter},
 * source/extensions/filters/http/grpc_http1_bridge/http1_bridge_filter.cc).
 *
 * <p>Request: with {@code upgrade_protobuf_to_grpc}, an {@code application/x-protobuf} request becomes
 * {@code application/grpc} (content-length removed, route cache cleared) and its body is buffered and sent as one
 * gRPC message. The stream is <em>bridged</em> when the downstream protocol ({@code StreamInfo.protocol()}) is
 * below HTTP/2 and the request is gRPC; then {@code ignore_query_parameters} cuts the query off {@code :path}.
 *
 * <p>Response of a bridged stream: headers and body are held until the trailers (so: unary calls); the trailers'
 * {@code grpc-status} (a non-zero or unparsable one turns {@code :status} into 503) and {@code grpc-message} are
 * copied into the headers, and {@code content-length} is set to the body held; the HTTP/1 codec then drops the
 * trailers. A trailers-only response (headers that end the stream, as gRPC errors and Legate's gRPC local replies
 * are) passes unchanged, {@code :status} 200 included. For an upgraded protobuf request the gRPC frame headers
 * are removed from the response body, so the client gets the bare protobuf message. The body held counts against
 * the stream's buffer limit (over it: 500, as for any buffering filter).
 *
 * <p>Confined to the stream's event loop; holds no buffer of its own.
 */
final class GrpcHttp1BridgeFilter implements HttpFilter {

    private final GrpcHttp1BridgeSettings settings;
    private final HttpFilterCallbacks callbacks;

    private boolean doBridging;
    /** The request was upgraded from protobuf: frame its body, unframe the response's. */
    private boolean doFraming;
    private boolean requestFramed;
    private GrpcFrameDecoder responseFrames;
    private HeaderMap responseHeaders;

    GrpcHttp1BridgeFilter(GrpcHttp1BridgeSettings settings, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        if (settings.upgradeProtobufToGrpc() && GrpcSupport.isProtobufRequestHeaders(headers)) {
            doFraming = true;
            headers.set(GrpcSupport.CONTENT_TYPE, GrpcCommon.CONTENT_TYPE);
            headers.remove(GrpcSupport.CONTENT_LENGTH); // the message length is in the gRPC frame
            callbacks.clearRouteCache();
        }
        String protocol = callbacks.streamInfo().protocol();
        if (GrpcCommon.isGrpcRequest(headers) && ("HTTP/1.1".equals(protocol) || "HTTP/1.0".equals(protocol))) {
            doBridging = true;
        }
        if (doBridging && settings.ignoreQueryParameters()) {
            String path = headers.path();
            int q = path.indexOf('?');
            if (q >= 0) {
                headers.set(HeaderMap.PATH, path.substring(0, q));
            }
        }
        if (doBridging && doFraming && endStream) {
            // No body: the empty message still needs its frame (Envoy sends none; a gRPC server then fails the call).
            frameRequest(null);
        }
        return FilterHeadersStatus.CONTINUE;
    }

    /** An upgraded request's body is held whole, then passed on as one gRPC frame. */
    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        if (!doBridging || !doFraming || requestFramed) {
            return FilterDataStatus.CONTINUE;
        }
        if (!endStream) {
            return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
        }
        frameRequest(data);
        return FilterDataStatus.CONTINUE;
    }

    @Override
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        if (doBridging && doFraming && !requestFramed) {
            frameRequest(null);
        }
        return FilterTrailersStatus.CONTINUE;
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        if (!doBridging || endStream) {
            return FilterHeadersStatus.CONTINUE;
        }
        responseHeaders = headers;
        return FilterHeadersStatus.STOP_ITERATION;
    }

    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        if (!doBridging) {
            return FilterDataStatus.CONTINUE;
        }
        if (doFraming) {
            if (responseFrames == null) {
                responseFrames = new GrpcFrameDecoder();
            }
            responseFrames.unframe(data);
        }
        // Buffer until the trailers (Envoy: the whole response).
        return endStream ? FilterDataStatus.CONTINUE : FilterDataStatus.STOP_ITERATION_AND_BUFFER;
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        if (!doBridging || responseHeaders == null) {
            return FilterTrailersStatus.CONTINUE;
        }
        String grpcStatus = trailers.get(GrpcCommon.GRPC_STATUS);
        if (grpcStatus != null) {
            String code = grpcStatus.trim();
            if (!isUnsigned(code) || Long.parseLong(code) != 0) {
                responseHeaders.set(HeaderMap.STATUS, "503");
            }
            responseHeaders.set(GrpcCommon.GRPC_STATUS, grpcStatus);
        }
        String grpcMessage = trailers.get(GrpcCommon.GRPC_MESSAGE);
        if (grpcMessage != null) {
            responseHeaders.set(GrpcCommon.GRPC_MESSAGE, grpcMessage);
        }
        // The body is complete: a content-length lets an HTTP/1.1 client tell a whole response from a cut one.
        ByteBuf held = callbacks.encodingBuffer();
        responseHeaders.set(GrpcSupport.CONTENT_LENGTH, Integer.toString(held == null ? 0 : held.readableBytes()));
        // The HTTP/1 codec drops the trailers and ends the message.
        return FilterTrailersStatus.CONTINUE;
    }

    // ---- internals

    /** Passes the held body and {@code last} (borrowed, drained) on as one gRPC message. */
    private void frameRequest(ByteBuf last) {
        requestFramed = true;
        ByteBuf held = callbacks.decodingBuffer();
        int length = (held == null ? 0 : held.readableBytes()) + (last == null ? 0 : last.readableBytes());
        ByteBufAllocator alloc = last != null ? last.alloc() : ByteBufAllocator.DEFAULT;
        ByteBuf frame = GrpcFrameDecoder.writeHeader(alloc.buffer(GrpcFrameDecoder.HEADER_SIZE + length), 0, length);
        if (held != null) {
            frame.writeBytes(held); // drains the held body: the frame replaces it
        }
        if (last != null) {
            frame.writeBytes(last);
        }
        callbacks.addDecodedData(frame);
    }

    private static boolean isUnsigned(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
