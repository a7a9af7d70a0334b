package dev.legate.filters.http.grpc;

import dev.legate.api.http.GrpcCommon;
import dev.legate.api.http.HeaderMap;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gRPC filters share beyond the SPI's {@link GrpcCommon} (which has the gRPC content type, request
 * classification, {@code httpToGrpcStatus} and the percent-encoding of a string): Envoy's
 * {@code isGrpcResponseHeaders}, {@code isProtobufRequestHeaders} and {@code resolveServiceAndMethod}
 * (source/common/grpc/common.cc), and the percent-encoding of raw body bytes. Stateless; any thread.
 */
public final class GrpcSupport {

    /** {@code application/x-protobuf}. */
    public static final String CONTENT_TYPE_PROTOBUF = "application/x-protobuf";
    /** The {@code content-type} header. */
    public static final String CONTENT_TYPE = "content-type";
    /** The {@code content-length} header. */
    public static final String CONTENT_LENGTH = "content-length";

    /**
     * The service and method of a gRPC request path {@code /<service>/<method>}.
     *
     * @param service the fully qualified service, e.g. {@code grpc.testing.TestService}
     * @param method  the method, e.g. {@code UnaryCall}
     */
    public record RequestNames(String service, String method) {
    }

    private GrpcSupport() {
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
            return headers.contains(GrpcCommon.GRPC_STATUS);
        }
        return headers.status() == 200 && GrpcCommon.hasGrpcContentType(headers);
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
     * Envoy's {@code PercentEncoding::encode(value, "%")} over raw bytes (a response body turned into
     * {@code grpc-message}, which need not be UTF-8): bytes below 0x20, from 0x7E up, and {@code %} become
     * {@code %XX} (upper-case hex). For a string use {@link GrpcCommon#percentEncode(String)}.
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

    /** Removes every entry of {@code headers} (Envoy's {@code HeaderMap::clear}). */
    public static void clear(HeaderMap headers) {
        List<String> names = new ArrayList<>(headers.size());
        headers.forEach((name, value) -> names.add(name));
        for (String name : names) {
            headers.remove(name);
        }
    }
}
