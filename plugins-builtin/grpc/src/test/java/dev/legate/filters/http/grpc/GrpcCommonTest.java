package dev.legate.filters.http.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.filters.http.grpc.GrpcCommon.RequestNames;
import dev.legate.testkit.TestHeaderMap;
import org.junit.jupiter.api.Test;

/** Envoy's {@code Grpc::Common} rules as the filters use them. */
class GrpcCommonTest {

    @Test
    void grpcContentTypeIsExactOrPlusSuffix() {
        assertThat(GrpcCommon.isGrpcRequestHeaders(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequestHeaders(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc+proto"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequestHeaders(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc-web"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequestHeaders(TestHeaderMap.of("content-type", "application/grpc"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequestHeaders(TestHeaderMap.of(":path", "/a/b"))).isFalse();
    }

    @Test
    void grpcResponseHeaders() {
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "14"), true)).isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "14"), false)).isFalse();
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false)).isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), true)).isFalse();
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "503", "content-type", "application/grpc"), false)).isFalse();
    }

    @Test
    void serviceAndMethodFromPath() {
        assertThat(GrpcCommon.resolveServiceAndMethod("/grpc.testing.TestService/UnaryCall"))
                .isEqualTo(new RequestNames("grpc.testing.TestService", "UnaryCall"));
        assertThat(GrpcCommon.resolveServiceAndMethod("/svc/m?x=1")).isEqualTo(new RequestNames("svc", "m"));
        assertThat(GrpcCommon.resolveServiceAndMethod("//svc//m/")).isEqualTo(new RequestNames("svc", "m"));
        assertThat(GrpcCommon.resolveServiceAndMethod("/svc")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod("/a/b/c")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod("/")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod(null)).isNull();
    }

    @Test
    void httpToGrpcStatusIsEnvoysTable() {
        assertThat(GrpcCommon.httpToGrpcStatus(400)).isEqualTo(13);
        assertThat(GrpcCommon.httpToGrpcStatus(401)).isEqualTo(16);
        assertThat(GrpcCommon.httpToGrpcStatus(403)).isEqualTo(7);
        assertThat(GrpcCommon.httpToGrpcStatus(404)).isEqualTo(12);
        assertThat(GrpcCommon.httpToGrpcStatus(429)).isEqualTo(14);
        assertThat(GrpcCommon.httpToGrpcStatus(502)).isEqualTo(14);
        assertThat(GrpcCommon.httpToGrpcStatus(503)).isEqualTo(14);
        assertThat(GrpcCommon.httpToGrpcStatus(504)).isEqualTo(14);
        assertThat(GrpcCommon.httpToGrpcStatus(500)).isEqualTo(2);
        assertThat(GrpcCommon.httpToGrpcStatus(200)).isEqualTo(2);
    }

    @Test
    void percentEncodingKeepsPrintableAsciiButPercent() {
        assertThat(GrpcCommon.percentEncode("no healthy upstream")).isEqualTo("no healthy upstream");
        assertThat(GrpcCommon.percentEncode("50% off\n")).isEqualTo("50%25 off%0A");
        assertThat(GrpcCommon.percentEncode("a~b")).isEqualTo("a%7Eb");
        assertThat(GrpcCommon.percentEncode("é")).isEqualTo("%C3%A9");
    }

    @Test
    void clearEmptiesAMap() {
        TestHeaderMap h = TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok", "x", "1");
        GrpcCommon.clear(h);
        assertThat(h.size()).isZero();
    }
}
