package dev.legate.api.http;

import java.nio.charset.StandardCharsets;

/**
 * gRPC over HTTP helpers shared by the host and the filters (Envoy's {@code Grpc::Common} in
 * source/common/grpc/common.cc, {@code Grpc::Utility} in source/common/grpc/status.cc and
 * {@code Http::Utility::PercentEncoding} in source/common/http/utility.cc). Stateless and thread-safe; nothing
 * here throws because of traffic: a malformed header reads as absent, as in Envoy.
 */
public final class GrpcCommon {

    /** {@code application/grpc}. */
    public static final String CONTENT_TYPE = "application/grpc";
    /** {@code application/x-protobuf} (Envoy's {@code Protobuf} content type, for the HTTP/1.1 bridge). */
    public static final String CONTENT_TYPE_PROTOBUF = "application/x-protobuf";
    /** The {@code content-type} header. */
    public static final String CONTENT_TYPE_HEADER = "content-type";
    /** The {@code content-length} header. */
    public static final String CONTENT_LENGTH_HEADER = "content-length";
    /** The request header with the call's deadline, e.g. {@code 250m}. */
    public static final String GRPC_TIMEOUT = "grpc-timeout";
    /** The response header or trailer with the call's status code. */
    public static final String GRPC_STATUS = "grpc-status";
    /** The response header or trailer with the percent-encoded status message. */
    public static final String GRPC_MESSAGE = "grpc-message";

    /** The largest {@code grpc-timeout} value: at most 8 digits. */
    public static final long MAX_TIMEOUT_VALUE = 99_999_999L;
    /** The largest status code Envoy knows ({@code UNAUTHENTICATED}). */
    public static final int MAX_KNOWN_STATUS = 16;

    private GrpcCommon() {
    }

    /**
     * Whether {@code content-type} is exactly {@code application/grpc} or starts with {@code application/grpc+}
     * (case-sensitive, as Envoy's {@code hasGrpcContentType}); {@code application/grpc-web} is not gRPC.
     */
    public static boolean hasGrpcContentType(HeaderMap headers) {
        String ct = headers.get(CONTENT_TYPE_HEADER);
        return ct != null && ct.startsWith(CONTENT_TYPE)
                && (ct.length() == CONTENT_TYPE.length() || ct.charAt(CONTENT_TYPE.length()) == '+');
    }

    /** Envoy's {@code isGrpcRequestHeaders}: a {@code :path} and a gRPC {@code content-type}. */
    public static boolean isGrpcRequest(HeaderMap requestHeaders) {
        return requestHeaders != null && requestHeaders.path() != null && hasGrpcContentType(requestHeaders);
    }

    /**
     * Envoy's {@code isGrpcResponseHeaders}: with {@code endStream} (trailers-only) a {@code grpc-status} is enough;
     * otherwise {@code :status} 200 and a gRPC content type.
     */
    public static boolean isGrpcResponseHeaders(HeaderMap responseHeaders, boolean endStream) {
        if (endStream) {
            return responseHeaders.contains(GRPC_STATUS);
        }
        return responseHeaders.status() == 200 && hasGrpcContentType(responseHeaders);
    }

    /**
     * Envoy's {@code isProtobufRequestHeaders}: a {@code :path} and {@code content-type} exactly
     * {@code application/x-protobuf}.
     */
    public static boolean isProtobufRequest(HeaderMap requestHeaders) {
        return requestHeaders.path() != null && CONTENT_TYPE_PROTOBUF.equals(requestHeaders.get(CONTENT_TYPE_HEADER));
    }

    /**
     * The service and method of a gRPC request path {@code /<service>/<method>}.
     *
     * @param service the fully qualified service, e.g. {@code grpc.testing.TestService}
     * @param method  the method, e.g. {@code UnaryCall}
     */
    public record RequestNames(String service, String method) {
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

    /**
     * Envoy's {@code getGrpcTimeout}: the request's {@code grpc-timeout} in milliseconds (sub-millisecond
     * {@code u}/{@code n} values round up), or {@code -1} when the header is absent or not
     * {@code <value><unit>} with a value of at most {@link #MAX_TIMEOUT_VALUE} and a unit of {@code H M S m u n}.
     */
    public static long timeoutMillis(HeaderMap requestHeaders) {
        return parseTimeoutMillis(requestHeaders.get(GRPC_TIMEOUT));
    }

    /** {@link #timeoutMillis(HeaderMap)} for a header value; {@code null} gives {@code -1}. */
    public static long parseTimeoutMillis(String value) {
        if (value == null || value.length() < 2 || value.length() > 19) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        if (n > MAX_TIMEOUT_VALUE) {
            return -1;
        }
        return switch (value.charAt(value.length() - 1)) {
            case 'H' -> n * 3_600_000L;
            case 'M' -> n * 60_000L;
            case 'S' -> n * 1_000L;
            case 'm' -> n;
            case 'u' -> (n + 999) / 1_000;
            case 'n' -> (n + 999_999) / 1_000_000;
            default -> -1;
        };
    }

    /**
     * Envoy's {@code toGrpcTimeout}: {@code millis} as a {@code grpc-timeout} value in the smallest of
     * {@code m S M H} that fits in 8 digits (truncating), clipped to 99999999H.
     */
    public static String formatTimeout(long millis) {
        long time = Math.max(0, millis);
        String units = "mSMH";
        int unit = 0;
        if (time > MAX_TIMEOUT_VALUE) {
            time /= 1000;
            unit++;
        }
        while (time > MAX_TIMEOUT_VALUE) {
            if (unit == 3) {
                time = MAX_TIMEOUT_VALUE;
            } else {
                time /= 60;
                unit++;
            }
        }
        return time + units.substring(unit, unit + 1);
    }

    /**
     * Envoy's {@code getGrpcStatus}: the {@code grpc-status} of response headers or trailers, or {@code -1} when
     * absent or not a known code (0..16).
     */
    public static int grpcStatus(HeaderMap headersOrTrailers) {
        String value = headersOrTrailers.get(GRPC_STATUS);
        if (value == null || value.isEmpty() || value.length() > 2) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n <= MAX_KNOWN_STATUS ? n : -1;
    }

    /**
     * Envoy's {@code Grpc::Utility::httpToGrpcStatus} (gRPC's http-grpc-status-mapping): 400 INTERNAL (13),
     * 401 UNAUTHENTICATED (16), 403 PERMISSION_DENIED (7), 404 UNIMPLEMENTED (12), 429/502/503/504
     * UNAVAILABLE (14), anything else UNKNOWN (2).
     */
    public static int httpToGrpcStatus(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13;
            case 401 -> 16;
            case 403 -> 7;
            case 404 -> 12;
            case 429, 502, 503, 504 -> 14;
            default -> 2;
        };
    }

    /** Envoy's {@code Grpc::Utility::grpcToHttpStatus}; an unknown code gives 500. */
    public static int grpcToHttpStatus(int grpcStatus) {
        return switch (grpcStatus) {
            case 0 -> 200;
            case 1 -> 499;
            case 2 -> 500;
            case 3 -> 400;
            case 4 -> 504;
            case 5 -> 404;
            case 6 -> 409;
            case 7 -> 403;
            case 8 -> 429;
            case 9 -> 400;
            case 10 -> 409;
            case 11 -> 400;
            case 12 -> 501;
            case 13 -> 500;
            case 14 -> 503;
            case 15 -> 500;
            case 16 -> 401;
            default -> 500;
        };
    }

    /**
     * Envoy's {@code PercentEncoding::encode(value, "%")}, as gRPC wants {@code grpc-message}: the UTF-8 bytes
     * below 0x20, from 0x7E up, and {@code %} become {@code %XX} (upper-case hex); others are kept.
     */
    public static String percentEncode(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c >= 0x7e || c == '%') {
                return percentEncode(value.getBytes(StandardCharsets.UTF_8));
            }
        }
        return value;
    }

    /**
     * {@link #percentEncode(String)} over raw bytes (a response body turned into {@code grpc-message}, which need
     * not be UTF-8).
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
}
