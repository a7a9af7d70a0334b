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

    static final String GRPC_CONTENT_TYPE = "application/grpc";

    private LocalReplies() {
    }

    /**
     * Whether a request is gRPC for local replies: Envoy's {@code Grpc::Common::isGrpcRequestHeaders}, a
     * {@code :path} and {@code content-type} exactly {@code application/grpc} or {@code application/grpc+...}
     * ({@code application/grpc-web} is not).
     */
    static boolean isGrpc(HeaderMap requestHeaders) {
        return GrpcCommon.isGrpcRequest(requestHeaders);
    }

    /**
     * Fills {@code headers} for a local reply.
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
            headers.set("content-type", GRPC_CONTENT_TYPE);
            if (!headers.contains("grpc-status")) {
                headers.set("grpc-status", Integer.toString(httpToGrpcStatus(status)));
            }
            if (!body.isEmpty() && !head) {
                headers.set("grpc-message", percentEncode(body));
            }
            headers.remove("content-length");
            return false;
        }
        if (!body.isEmpty()) {
            headers.set("content-length", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length));
            String ct = headers.get("content-type");
            if (ct == null || isGrpcContentType(ct)) {
                headers.set("content-type", "text/plain");
            }
            return !head;
        }
        headers.remove("content-length");
        headers.remove("content-type");
        return false;
    }

    private static boolean isGrpcContentType(String ct) {
        return ct.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length());
    }

    /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}; see {@link GrpcCommon#httpToGrpcStatus}. */
    static int httpToGrpcStatus(int httpStatus) {
        return GrpcCommon.httpToGrpcStatus(httpStatus);
    }

    /** Envoy's {@code PercentEncoding::encode(value, "%")}; see {@link GrpcCommon#percentEncode}. */
    static String percentEncode(String value) {
        return GrpcCommon.percentEncode(value);
    }
}
