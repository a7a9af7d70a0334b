package dev.legate.filters.http.grpc.web;

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
import dev.legate.filters.http.grpc.GrpcSupport;
import dev.legate.api.http.GrpcCommon.RequestNames;
import dev.legate.filters.http.grpc.GrpcFrameDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;

/**
 * {@code envoy.filters.http.grpc_web} for one stream (Envoy's {@code GrpcWebFilter},
 * source/extensions/filters/http/grpc_web/grpc_web_filter.cc). A request is gRPC-Web when it has a {@code :path}
 * and its {@code content-type} is exactly one of {@code application/grpc-web}, {@code application/grpc-web+proto},
 * {@code application/grpc-web-text}, {@code application/grpc-web-text+proto}; any other request (a CORS preflight
 * among them) passes untouched.
 *
 * <p>Request: {@code content-length} removed, {@code content-type: application/grpc}, {@code te: trailers},
 * {@code grpc-accept-encoding: identity} when absent. A text-mode body ({@code -text} content types) is base64:
 * it is decoded in blocks of 4 characters as they arrive, the 0–3 characters past the last whole block kept for
 * the next chunk. At the end a length that is not a multiple of 4, or characters that are not base64 (padding
 * inside the body included), answer 400 {@code Bad gRPC-web request, invalid base64 data.} (details
 * {@code grpc_base_64_decode_failed_bad_size} / {@code grpc_base_64_decode_failed}).
 *
 * <p>Response: {@code content-length} removed; {@code content-type} becomes {@code application/grpc-web-text+proto}
 * when the request's {@code accept} was a text type, else {@code application/grpc-web+proto}. Trailers become the
 * body's last frame: flags {@code 0x80}, the 4-byte length, then each trailer as {@code name:value\r\n}; the HTTP
 * trailers are emptied. In text mode each gRPC frame, and the trailer frame, is base64-encoded on its own (with
 * padding), so the body is a concatenation of padded base64 blocks — the same bytes as Envoy's — but written as
 * the frame arrives ({@link GrpcWebTextEncoder}: 4 characters per 3 bytes, at most 2 bytes carried to the next
 * chunk, the padding where the frame ends), so no frame is held whatever its size. A text-mode response that ends
 * inside a frame (data ending the stream, or trailers, after part of a frame) resets the stream: Envoy never
 * passes a truncated frame on, and the trailer frame could claim {@code grpc-status: 0}. A response that is neither gRPC (200 with a gRPC content type, or headers carrying {@code grpc-status}
 * that end the stream) nor proto gRPC-Web — a local reply, an HTML error page — is held: its body (up to 16384
 * bytes once buffering started) becomes a percent-encoded {@code grpc-message}, {@code grpc-status} is mapped
 * from {@code :status}, {@code content-length: 0}, and the body is dropped; {@code :status} stays. A trailers-only
 * response passes with its {@code grpc-status}/{@code grpc-message} headers.
 *
 * <p>Stats (when the route's cluster is known and the path is {@code /service/method}):
 * {@code cluster.<name>.grpc-web.<service>.<method>.{<grpc-status>,success,failure,total}}.
 *
 * <p>Confined to the stream's event loop. Holds no buffer of its own (at most 2 carried bytes in text mode); the
 * body of a non-gRPC response is held in the stream's encoding buffer, up to 16384 bytes.
 */
final class GrpcWebFilter implements HttpFilter {

    static final String GRPC_WEB = "application/grpc-web";
    static final String GRPC_WEB_PROTO = "application/grpc-web+proto";
    static final String GRPC_WEB_TEXT = "application/grpc-web-text";
    static final String GRPC_WEB_TEXT_PROTO = "application/grpc-web-text+proto";
    private static final Set<String> CONTENT_TYPES = Set.of(GRPC_WEB, GRPC_WEB_PROTO, GRPC_WEB_TEXT, GRPC_WEB_TEXT_PROTO);

    /** Envoy's local reply body and details for a text body that is not base64. */
    static final String BAD_BASE64 = "Bad gRPC-web request, invalid base64 data.";
    static final String DETAILS_BAD_SIZE = "grpc_base_64_decode_failed_bad_size";
    static final String DETAILS_BAD_DATA = "grpc_base_64_decode_failed";
    /** Envoy's {@code MAX_BUFFERED_PLAINTEXT_LENGTH}: the most of a non-gRPC body kept for {@code grpc-message}. */
    static final int MAX_BUFFERED_PLAINTEXT_LENGTH = 16384;

    private final HttpFilterCallbacks callbacks;

    private boolean isGrpcWebRequest;
    private boolean isTextRequest;
    private boolean isTextResponse;
    /** Base64 characters past the last whole block of 4 (0–3 of them). */
    private final byte[] pendingText = new byte[3];
    private int pendingTextLength;
    /** Text mode: the response's base64, frame by frame, as it arrives. */
    private GrpcWebTextEncoder textEncoder;
    /** The allocator of the response's chunks (the trailer frame is allocated from it too). */
    private ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
    private boolean needsTransformation;
    private HeaderMap responseHeaders;
    private Stats cluster;
    private RequestNames requestNames;

    GrpcWebFilter(HttpFilterCallbacks callbacks) {
        this.callbacks = requireNonNull(callbacks, "callbacks");
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        String contentType = headers.get(GrpcCommon.CONTENT_TYPE_HEADER);
        if (headers.path() == null || contentType == null || !CONTENT_TYPES.contains(contentType)) {
            return FilterHeadersStatus.CONTINUE;
        }
        isGrpcWebRequest = true;
        // content-length counted the HTTP/1.1 body (base64 in text mode), not what goes upstream.
        headers.remove(GrpcCommon.CONTENT_LENGTH_HEADER);
        cluster = GrpcClusterStats.clusterScope(callbacks);
        requestNames = cluster == null ? null : GrpcCommon.resolveServiceAndMethod(headers.path());
        isTextRequest = contentType.equals(GRPC_WEB_TEXT) || contentType.equals(GRPC_WEB_TEXT_PROTO);
        headers.set(GrpcCommon.CONTENT_TYPE_HEADER, GrpcCommon.CONTENT_TYPE);
        String accept = headers.get("accept");
        isTextResponse = GRPC_WEB_TEXT.equals(accept) || GRPC_WEB_TEXT_PROTO.equals(accept);
        headers.set("te", "trailers");
        if (!headers.contains("grpc-accept-encoding")) {
            headers.set("grpc-accept-encoding", "identity");
        }
        return FilterHeadersStatus.CONTINUE;
    }

    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        if (!isGrpcWebRequest || !isTextRequest) {
            return FilterDataStatus.CONTINUE;
        }
        int available = data.readableBytes() + pendingTextLength;
        if (endStream) {
            if (available == 0) {
                return FilterDataStatus.CONTINUE;
            }
            if (available % 4 != 0) {
                // Padding is mandatory: the body must end on a whole block.
                callbacks.sendLocalReply(400, BAD_BASE64, null, DETAILS_BAD_SIZE);
                return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
            }
        } else if (available < 4) {
            int n = data.readableBytes();
            data.readBytes(pendingText, pendingTextLength, n);
            pendingTextLength += n;
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
        int needed = available / 4 * 4 - pendingTextLength;
        byte[] text = new byte[pendingTextLength + needed];
        System.arraycopy(pendingText, 0, text, 0, pendingTextLength);
        data.readBytes(text, pendingTextLength, needed);
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            decoded = null;
        }
        if (decoded == null || decoded.length == 0) {
            callbacks.sendLocalReply(400, BAD_BASE64, null, DETAILS_BAD_DATA);
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
        pendingTextLength = data.readableBytes(); // < 4: available was cut to whole blocks
        data.readBytes(pendingText, 0, pendingTextLength);
        // The chunk is drained; the decoded bytes follow it in its place.
        callbacks.addDecodedData(data.alloc().buffer(decoded.length).writeBytes(decoded));
        return FilterDataStatus.CONTINUE;
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        if (!isGrpcWebRequest) {
            return FilterHeadersStatus.CONTINUE;
        }
        chargeStat(headers);
        needsTransformation = !GrpcCommon.isGrpcResponseHeaders(headers, endStream)
                && !isProtoEncodedGrpcWebResponseHeaders(headers);
        headers.remove(GrpcCommon.CONTENT_LENGTH_HEADER);
        headers.set(GrpcCommon.CONTENT_TYPE_HEADER, isTextResponse ? GRPC_WEB_TEXT_PROTO : GRPC_WEB_PROTO);
        if (endStream || !needsTransformation) {
            return FilterHeadersStatus.CONTINUE;
        }
        responseHeaders = headers;
        return FilterHeadersStatus.STOP_ITERATION;
    }

    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        if (!isGrpcWebRequest) {
            return FilterDataStatus.CONTINUE;
        }
        allocator = data.alloc();
        if (needsTransformation) {
            if (!endStream) {
                ByteBuf held = callbacks.encodingBuffer();
                if (held != null && held.readableBytes() >= MAX_BUFFERED_PLAINTEXT_LENGTH) {
                    return FilterDataStatus.STOP_ITERATION_NO_BUFFER; // enough for grpc-message: drop the rest
                }
                return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
            }
            needsTransformation = false;
            transformNonGrpcResponse(data);
            return FilterDataStatus.CONTINUE;
        }
        if (!isTextResponse) {
            return FilterDataStatus.CONTINUE;
        }
        if (textEncoder == null) {
            textEncoder = new GrpcWebTextEncoder();
        }
        ByteBuf out = data.alloc().buffer(textEncoder.maxEncodedLength(data.readableBytes()));
        textEncoder.encode(data, out); // drains the chunk: its base64 follows in its place
        if (endStream && textEncoder.inFrame()) {
            out.release();
            resetTruncated();
            return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
        if (!out.isReadable()) {
            out.release();
            // Fewer than 3 bytes of a frame so far: carried (Envoy: StopIterationNoBuffer until a whole frame).
            return endStream ? FilterDataStatus.CONTINUE : FilterDataStatus.STOP_ITERATION_NO_BUFFER;
        }
        callbacks.addEncodedData(out);
        return FilterDataStatus.CONTINUE;
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        if (!isGrpcWebRequest) {
            return FilterTrailersStatus.CONTINUE;
        }
        chargeStat(trailers);
        if (needsTransformation) {
            needsTransformation = false;
            transformNonGrpcResponse(null);
            return FilterTrailersStatus.CONTINUE;
        }
        if (textEncoder != null && textEncoder.inFrame()) {
            resetTruncated();
            return FilterTrailersStatus.STOP_ITERATION;
        }
        ByteBuf frame = trailerFrame(trailers, allocator);
        GrpcSupport.clear(trailers); // they are in the body now
        if (isTextResponse) {
            ByteBuf text = allocator.buffer((frame.readableBytes() + 2) / 3 * 4);
            try {
                writeBase64(frame, text);
            } finally {
                frame.release();
            }
            frame = text;
        }
        callbacks.addEncodedData(frame);
        return FilterTrailersStatus.CONTINUE;
    }

    // ---- the wire format

    /**
     * The gRPC-Web trailer frame of {@code trailers} (PROTOCOL-WEB.md): {@code 0x80}, the 4-byte big-endian length,
     * then {@code name:value\r\n} per entry in the map's order (names are lower case). Values are written as the
     * codec read them (one byte per char).
     *
     * @return a new buffer; the caller releases it
     */
    static ByteBuf trailerFrame(HeaderMap trailers, ByteBufAllocator alloc) {
        ByteBuf frame = alloc.buffer();
        frame.writeZero(GrpcFrameDecoder.HEADER_SIZE);
        trailers.forEach((name, value) -> {
            frame.writeCharSequence(name, StandardCharsets.ISO_8859_1);
            frame.writeByte(':');
            frame.writeCharSequence(value, StandardCharsets.ISO_8859_1);
            frame.writeByte('\r').writeByte('\n');
        });
        int length = frame.readableBytes() - GrpcFrameDecoder.HEADER_SIZE;
        frame.setByte(0, GrpcFrameDecoder.TRAILER_FLAG);
        frame.setInt(1, length);
        return frame;
    }

    /** Appends the padded base64 of {@code in}'s readable bytes (not consumed) to {@code out}. */
    static void writeBase64(ByteBuf in, ByteBuf out) {
        ByteBuffer encoded = Base64.getEncoder().encode(in.nioBuffer());
        out.writeBytes(encoded);
    }

    // ---- internals

    /** Envoy's {@code isProtoEncodedGrpcWebResponseHeaders}: 200 and a proto gRPC-Web content type (parameters and case ignored). */
    private static boolean isProtoEncodedGrpcWebResponseHeaders(HeaderMap headers) {
        if (headers.status() != 200) {
            return false;
        }
        String ct = headers.get(GrpcCommon.CONTENT_TYPE_HEADER);
        if (ct == null) {
            return false;
        }
        int semi = ct.indexOf(';');
        String type = (semi < 0 ? ct : ct.substring(0, semi)).stripTrailing().toLowerCase(Locale.ROOT);
        return type.equals(GRPC_WEB_PROTO) || type.equals(GRPC_WEB);
    }

    /**
     * Envoy's {@code setTransformedNonProtoEncodedResponseHeaders}: the held body (at most 16384 bytes of it when
     * it was buffered) and {@code last} become {@code grpc-message}; both are drained.
     */
    private void transformNonGrpcResponse(ByteBuf last) {
        ByteBuf held = callbacks.encodingBuffer();
        byte[] message;
        if (held != null) {
            int total = held.readableBytes() + (last == null ? 0 : last.readableBytes());
            message = new byte[Math.min(total, MAX_BUFFERED_PLAINTEXT_LENGTH)];
            int fromHeld = Math.min(held.readableBytes(), message.length);
            held.getBytes(held.readerIndex(), message, 0, fromHeld);
            if (last != null) {
                last.getBytes(last.readerIndex(), message, fromHeld, message.length - fromHeld);
            }
            held.skipBytes(held.readableBytes());
        } else if (last != null) {
            message = new byte[last.readableBytes()];
            last.getBytes(last.readerIndex(), message);
        } else {
            message = new byte[0];
        }
        if (last != null) {
            last.skipBytes(last.readableBytes());
        }
        if (responseHeaders == null) {
            return;
        }
        responseHeaders.set(GrpcCommon.GRPC_MESSAGE, GrpcCommon.percentEncode(message));
        responseHeaders.set(GrpcCommon.GRPC_STATUS,
                Integer.toString(GrpcCommon.httpToGrpcStatus(responseHeaders.status())));
        responseHeaders.set(GrpcCommon.CONTENT_LENGTH_HEADER, "0");
    }

    /**
     * The upstream's response ended inside a gRPC frame (data that ends the stream, or trailers, after part of a
     * frame): Envoy never passes a truncated frame on, and a trailer frame after it could claim success, so the
     * stream is reset instead.
     */
    private void resetTruncated() {
        callbacks.resetStream();
    }

    private void chargeStat(HeaderMap headersOrTrailers) {
        if (cluster != null && requestNames != null) {
            GrpcClusterStats.chargeStatus(cluster, GrpcClusterStats.Protocol.GRPC_WEB, requestNames,
                    headersOrTrailers.get(GrpcCommon.GRPC_STATUS));
        }
    }
}
