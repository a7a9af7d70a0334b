package dev.legate.filters.http.grpc.bridge;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.GrpcCommon;
import dev.legate.filters.http.grpc.GrpcFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * {@code envoy.filters.http.grpc_http1_bridge} for one stream (Envoy's {@code Http1BridgeFilter},
 * source/extensions/filters/http/grpc_http1_bridge/http1_bridge_filter.cc).
 *
 * <p>Request: the stream is <em>bridged</em> when the downstream protocol ({@code StreamInfo.protocol()}) is
 * below HTTP/2 and the request is gRPC; then {@code ignore_query_parameters} cuts the query off {@code :path}.
 * With {@code upgrade_protobuf_to_grpc}, an {@code application/x-protobuf} request from an HTTP/1.x client becomes
 * {@code application/grpc} (content-length removed, route cache cleared), is bridged, and its body is buffered and
 * sent as one gRPC message. Divergence: Envoy also rewrites the content type of an HTTP/2 client's protobuf request,
 * but frames nothing there (bridging needs HTTP/1.x), so the gRPC server gets an unframed body; Legate leaves an
 * HTTP/2 client's protobuf request as it is.
 *
 * <p>Response of a bridged stream: a gRPC response (Envoy's {@code isGrpcResponseHeaders}: 200 and a gRPC content
 * type) is held — headers and body — until the trailers (so: unary calls); the trailers' {@code grpc-status} (a
 * non-zero or unparsable one turns {@code :status} into 503) and {@code grpc-message} are copied into the headers,
 * and {@code content-length} is set to the body held; the HTTP/1 codec then drops the trailers. A response that
 * ends without trailers gets the same {@code content-length}. A trailers-only response (headers that end the
 * stream, as gRPC errors and Legate's gRPC local replies are) and any response that is not gRPC (a plain local
 * reply, an HTML error page) pass unchanged and unheld. For an upgraded protobuf request the gRPC frame headers are
 * removed from a gRPC response's body, so the client gets the bare protobuf message; divergence: every frame header
 * is removed, across all chunks, where Envoy drains 5 bytes from the first chunk only — a multi-message response
 * comes back as the messages one after the other.
 *
 * <p>The body held counts against the stream's buffer limit. Over it, the host answers directly with the
 * request as it arrived: for an {@code application/grpc} request a gRPC trailers-only reply (200,
 * {@code grpc-status: 2}, {@code grpc-message: Internal Server Error}); for an upgraded
 * {@code application/x-protobuf} request a 500 {@code Internal Server Error}.
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
    /** The held headers of a bridged gRPC response, or {@code null}. */
    private HeaderMap responseHeaders;

    GrpcHttp1BridgeFilter(GrpcHttp1BridgeSettings settings, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        String protocol = callbacks.streamInfo().protocol();
        boolean http1 = "HTTP/1.1".equals(protocol) || "HTTP/1.0".equals(protocol);
        if (http1 && settings.upgradeProtobufToGrpc() && GrpcCommon.isProtobufRequest(headers)) {
            doFraming = true;
            headers.set(GrpcCommon.CONTENT_TYPE_HEADER, GrpcCommon.CONTENT_TYPE);
            headers.remove(GrpcCommon.CONTENT_LENGTH_HEADER); // the message length is in the gRPC frame
            callbacks.clearRouteCache();
        }
        if (http1 && GrpcCommon.isGrpcRequest(headers)) {
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
        if (!doBridging || endStream || !GrpcCommon.isGrpcResponseHeaders(headers, false)) {
            return FilterHeadersStatus.CONTINUE;
        }
        responseHeaders = headers;
        return FilterHeadersStatus.STOP_ITERATION;
    }

    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        if (responseHeaders == null) {
            return FilterDataStatus.CONTINUE;
        }
        if (doFraming) {
            if (responseFrames == null) {
                responseFrames = new GrpcFrameDecoder();
            }
            responseFrames.unframe(data);
        }
        if (!endStream) {
            // Buffer until the trailers (Envoy: the whole response).
            return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
        }
        // Ended without trailers: the body is complete all the same (and may have lost its frame headers).
        setContentLength(data.readableBytes());
        return FilterDataStatus.CONTINUE;
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        if (responseHeaders == null) {
            return FilterTrailersStatus.CONTINUE;
        }
        String grpcStatus = trailers.get(GrpcCommon.GRPC_STATUS);
        if (grpcStatus != null) {
            if (GrpcCommon.grpcStatus(trailers) != 0) {
                responseHeaders.set(HeaderMap.STATUS, "503");
            }
            responseHeaders.set(GrpcCommon.GRPC_STATUS, grpcStatus);
        }
        String grpcMessage = trailers.get(GrpcCommon.GRPC_MESSAGE);
        if (grpcMessage != null) {
            responseHeaders.set(GrpcCommon.GRPC_MESSAGE, grpcMessage);
        }
        setContentLength(0);
        // The HTTP/1 codec drops the trailers and ends the message.
        return FilterTrailersStatus.CONTINUE;
    }

    // ---- internals

    /** Passes the held body and {@code last} (borrowed, drained) on as one gRPC message. */
    private void frameRequest(ByteBuf last) {
        requestFramed = true;
        ByteBuf held = callbacks.decodingBuffer();
        int length = (held == null ? 0 : held.readableBytes()) + (last == null ? 0 : last.readableBytes());
        // The SPI has no allocator of its own: a request without any body is framed from the default one.
        ByteBufAllocator alloc = last != null ? last.alloc() : held != null ? held.alloc() : ByteBufAllocator.DEFAULT;
        ByteBuf frame = GrpcFrameDecoder.writeHeader(alloc.buffer(GrpcFrameDecoder.HEADER_SIZE + length), 0, length);
        if (held != null) {
            frame.writeBytes(held); // drains the held body: the frame replaces it
        }
        if (last != null) {
            frame.writeBytes(last);
        }
        callbacks.addDecodedData(frame);
    }

    /**
     * The response body is complete (held, plus {@code more} bytes still passing): a {@code content-length} lets an
     * HTTP/1.1 client tell a whole response from a cut one, and replaces the upstream's, which the unframing made
     * wrong.
     */
    private void setContentLength(int more) {
        ByteBuf held = callbacks.encodingBuffer();
        long length = (held == null ? 0L : held.readableBytes()) + more;
        responseHeaders.set(GrpcCommon.CONTENT_LENGTH_HEADER, Long.toString(length));
    }
}
