package dev.legate.filters.http.grpc;

import dev.legate.api.http.HeaderMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What Envoy's gRPC filters share about the protocol (Envoy's {@code Grpc::Common}, source/common/grpc/common.cc,
 * and {@code Http::Utility::PercentEncoding}): content types, request classification, the {@code /service/method}
 * path, the HTTP → gRPC status mapping and the {@code grpc-message} percent-encoding. Stateless; any thread.
 */
public final class GrpcCommon {

    /** {@code application/grpc}. */
    public static final String CONTENT_TYPE_GRPC = "application/grpc";
    /** {@code application/x-protobuf}. */
    public static final String CONTENT_TYPE_PROTOBUF = "application/x-protobuf";
    /** The {@code content-type} header. */
    public static final String CONTENT_TYPE = "content-type";
    /** The {@code content-length} header. */
    public static final String CONTENT_LENGTH = "content-length";
    /** The gRPC status code, in trailers or in the headers of a trailers-only response. */
    public static final String GRPC_STATUS = "grpc-status";
    /** The percent-encoded gRPC status message. */
    public static final String GRPC_MESSAGE = "grpc-message";

    /**
     * The service and method of a gRPC request path {@code /<service>/<method>}.
     *
     * @param service the fully qualified service, e.g. {@code grpc.testing.TestService}
     * @param method  the method, e.g. {@code UnaryCall}
     */
    public record RequestNames(String service, String method) {
    }

    private GrpcCommon() {
    }

    /**
     * Envoy's {@code hasGrpcContentType}: {@code content-type} is exactly {@code application/grpc} or starts with
     * {@code application/grpc+} ({@code application/grpc-web} is not gRPC). Case-sensitive, as in Envoy.
     */
    public static boolean hasGrpcContentType(HeaderMap headers) {
        String ct = headers.get(CONTENT_TYPE);
        return ct != null && ct.startsWith(CONTENT_TYPE_GRPC)
                && (ct.length() == CONTENT_TYPE_GRPC.length() || ct.charAt(CONTENT_TYPE_GRPC.length()) == '+');
    }

    /** Envoy's {@code isGrpcRequestHeaders}: a {@code :path} and a gRPC content type. */
    public static boolean isGrpcRequestHeaders(HeaderMap headers) {
        return headers.path() != null && hasGrpcContentType(headers);
    }

    /** Envoy's {@code isProtobufRequestHeaders}: a {@code :path} and {@code content-type: application/x-protobuf}. */
    public static boolean isProtobufRequestHeaders(HeaderMap headers) {
        return headers.path() != null && CONTENT_TYPE_PROTOBUF.equals(headers.get(CONTENT_TYPE));
    }

    /**
     * Envoy's {@code isGrpcResponseHeaders}: with {@code endStream} (trailers-only) a {@code grpc-status} is enough;
     * otherwise {@code :status} 200 and a gRPC content type.
     */
    public static boolean isGrpcResponseHeaders(HeaderMap headers, boolean endStream) {
        if (endStream) {
            return headers.contains(GRPC_STATUS);
        }
        return headers.status() == 200 && hasGrpcContentType(headers);
    }

    /**
     * Envoy's {@code resolveServiceAndMethod}: the query is cut off, the path split on {@code /} (empty parts
     * dropped) and exactly two parts are the service and the method; otherwise {@code null}.
     */
    public static RequestNames resolveServiceAndMethod(String path) {
        if (path == null) {
            return null;
        }
        int q = path.indexOf('?');
        String p = q < 0 ? path : path.substring(0, q);
        String first = null;
        String second = null;
        int parts = 0;
        int i = 0;
        int n = p.length();
        while (i < n) {
            while (i < n && p.charAt(i) == '/') {
                i++;
            }
            if (i == n) {
                break;
            }
            int j = p.indexOf('/', i);
            if (j < 0) {
                j = n;
            }
            parts++;
            if (parts == 1) {
                first = p.substring(i, j);
            } else if (parts == 2) {
                second = p.substring(i, j);
            } else {
                return null;
            }
            i = j;
        }
        return parts == 2 ? new RequestNames(first, second) : null;
    }

    /** Envoy's {@code Grpc::Utility::httpToGrpcStatus} (grpc/doc/http-grpc-status-mapping.md). */
    public static int httpToGrpcStatus(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7;  // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 429, 502, 503, 504 -> 14; // UNAVAILABLE
            default -> 2;   // UNKNOWN
        };
    }

    /**
     * Envoy's {@code PercentEncoding::encode(value, "%")} over raw bytes, for {@code grpc-message}: bytes below
     * 0x20, from 0x7E up, and {@code %} become {@code %XX} (upper-case hex); the rest is kept.
     */
    public static String percentEncode(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte value : bytes) {
            int b = value & 0xff;
            if (b < 0x20 || b >= 0x7e || b == '%') {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            } else {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /** {@link #percentEncode(byte[])} of the UTF-8 bytes of {@code value}. */
    public static String percentEncode(String value) {
        return percentEncode(value.getBytes(StandardCharsets.UTF_8));
    }

    /** Removes every entry of {@code headers} (Envoy's {@code HeaderMap::clear}). */
    public static void clear(HeaderMap headers) {
        List<String> names = new ArrayList<>(headers.size());
        headers.forEach((name, value) -> names.add(name));
        for (String name : names) {
            headers.remove(name);
        }
    }
}
