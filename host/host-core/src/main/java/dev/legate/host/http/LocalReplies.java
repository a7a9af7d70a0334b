package dev.legate.host.http;

import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Builds Envoy's local replies ({@code Http::Utility::prepareLocalReply}, source/common/http/utility.cc):
 * {@code :status}, the caller's header changes, then either {@code content-type: text/plain} +
 * {@code content-length} for a body, no content headers for an empty body, or a gRPC trailers-only answer.
 */
final class LocalReplies {

    private LocalReplies() {
    }

    /**
     * Whether a request is gRPC for local replies: {@link GrpcCommon#isGrpcRequest} (Envoy's
     * {@code Grpc::Common::isGrpcRequestHeaders}) on the request headers as they arrived from the codec.
     */
    static boolean isGrpc(HeaderMap requestHeaders) {
        return GrpcCommon.isGrpcRequest(requestHeaders);
    }

    /**
     * Fills {@code headers} for a local reply. The reply is gRPC-shaped only for a gRPC request ({@code grpc}, as
     * the request arrived); then a {@code grpc-status} set by {@code modifyHeaders} wins over the mapped one.
     * Otherwise a {@code grpc-status}/{@code grpc-message} set by {@code modifyHeaders} is dropped: in Envoy the
     * gRPC status is a separate argument of {@code sendLocalReply}, used for a gRPC request only, and a filter that
     * judged "gRPC" on headers another filter rewrote (grpc_web, grpc_http1_bridge) must not put one on a plain
     * HTTP reply.
     *
     * @return whether a body follows the headers
     */
    static boolean prepare(HeaderMap headers, int status, String body, Consumer<HeaderMap> modifyHeaders,
                           boolean grpc, boolean head) {
        headers.set(HeaderMap.STATUS, Integer.toString(status));
        if (modifyHeaders != null) {
            modifyHeaders.accept(headers);
        }
        if (grpc) {
            headers.set(HeaderMap.STATUS, "200");
            headers.set(GrpcCommon.CONTENT_TYPE_HEADER, GrpcCommon.CONTENT_TYPE);
            if (!headers.contains(GrpcCommon.GRPC_STATUS)) {
                headers.set(GrpcCommon.GRPC_STATUS, Integer.toString(GrpcCommon.httpToGrpcStatus(status)));
            }
            if (!body.isEmpty() && !head) {
                headers.set(GrpcCommon.GRPC_MESSAGE, GrpcCommon.percentEncode(body));
            }
            headers.remove(GrpcCommon.CONTENT_LENGTH_HEADER);
            return false;
        }
        headers.remove(GrpcCommon.GRPC_STATUS);
        headers.remove(GrpcCommon.GRPC_MESSAGE);
        if (!body.isEmpty()) {
            headers.set(GrpcCommon.CONTENT_LENGTH_HEADER,
                    Integer.toString(body.getBytes(StandardCharsets.UTF_8).length));
            if (!headers.contains(GrpcCommon.CONTENT_TYPE_HEADER) || GrpcCommon.hasGrpcContentType(headers)) {
                headers.set(GrpcCommon.CONTENT_TYPE_HEADER, "text/plain");
            }
            return !head;
        }
        headers.remove(GrpcCommon.CONTENT_LENGTH_HEADER);
        headers.remove(GrpcCommon.CONTENT_TYPE_HEADER);
        return false;
    }
}
