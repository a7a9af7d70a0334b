package dev.legate.host.http;

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

    /** Whether a request is gRPC: {@code content-type} is {@code application/grpc} or {@code application/grpc+...}. */
    static boolean isGrpc(HeaderMap requestHeaders) {
        if (requestHeaders == null) {
            return false;
        }
        String ct = requestHeaders.get("content-type");
        if (ct == null || !ct.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length())) {
            return false;
        }
        return ct.length() == GRPC_CONTENT_TYPE.length() || ct.charAt(GRPC_CONTENT_TYPE.length()) == '+'
                || ct.charAt(GRPC_CONTENT_TYPE.length()) == ';';
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

    /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}. */
    static int httpToGrpcStatus(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7;  // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 429, 502, 503, 504 -> 14; // UNAVAILABLE
            default -> 2;   // UNKNOWN
        };
    }

    /** Envoy's {@code PercentEncoding::encode(value, "%")}: bytes below 0x20, from 0x7E up, and '%'. */
    static String percentEncode(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = null;
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean encode = b < 0x20 || b >= 0x7e || b == '%';
            if (encode && sb == null) {
                sb = new StringBuilder(bytes.length + 16);
                sb.append(new String(bytes, 0, i, StandardCharsets.US_ASCII));
            }
            if (sb != null) {
                if (encode) {
                    sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
                } else {
                    sb.append((char) b);
                }
            }
        }
        return sb == null ? value : sb.toString();
    }
}
