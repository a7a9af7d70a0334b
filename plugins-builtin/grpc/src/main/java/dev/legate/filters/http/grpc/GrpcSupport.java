package dev.legate.filters.http.grpc;

import dev.legate.api.http.HeaderMap;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gRPC filters share beyond the SPI's {@link dev.legate.api.http.GrpcCommon} (which has Envoy's
 * {@code Grpc::Common} rules: content types, request/response classification, service and method, status mapping,
 * percent-encoding). Stateless; any thread.
 */
public final class GrpcSupport {

    private GrpcSupport() {
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
