package dev.legate.filters.http.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.GrpcCommon;
import dev.legate.filters.http.grpc.GrpcSupport.RequestNames;
import dev.legate.testkit.TestHeaderMap;
import org.junit.jupiter.api.Test;

/** Envoy's {@code Grpc::Common} rules as the filters use them (the SPI's {@code GrpcCommon} and {@link GrpcSupport}). */
class GrpcSupportTest {

    @Test
    void grpcContentTypeIsExactOrPlusSuffix() {
        assertThat(GrpcCommon.isGrpcRequest(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequest(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc+proto"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequest(TestHeaderMap.of(":path", "/a/b", "content-type", "application/grpc-web"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequest(TestHeaderMap.of("content-type", "application/grpc"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequest(TestHeaderMap.of(":path", "/a/b"))).isFalse();
    }

    @Test
    void grpcResponseHeaders() {
        assertThat(GrpcSupport.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "14"), true)).isTrue();
        assertThat(GrpcSupport.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "14"), false)).isFalse();
        assertThat(GrpcSupport.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false)).isTrue();
        assertThat(GrpcSupport.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), true)).isFalse();
        assertThat(GrpcSupport.isGrpcResponseHeaders(TestHeaderMap.of(":status", "503", "content-type", "application/grpc"), false)).isFalse();
    }

    @Test
    void serviceAndMethodFromPath() {
        assertThat(GrpcSupport.resolveServiceAndMethod("/grpc.testing.TestService/UnaryCall"))
                .isEqualTo(new RequestNames("grpc.testing.TestService", "UnaryCall"));
        assertThat(GrpcSupport.resolveServiceAndMethod("/svc/m?x=1")).isEqualTo(new RequestNames("svc", "m"));
        assertThat(GrpcSupport.resolveServiceAndMethod("//svc//m/")).isEqualTo(new RequestNames("svc", "m"));
        assertThat(GrpcSupport.resolveServiceAndMethod("/svc")).isNull();
        assertThat(GrpcSupport.resolveServiceAndMethod("/a/b/c")).isNull();
        assertThat(GrpcSupport.resolveServiceAndMethod("/")).isNull();
        assertThat(GrpcSupport.resolveServiceAndMethod(null)).isNull();
    }

    @Test
    void percentEncodingKeepsPrintableAsciiButPercent() {
        assertThat(GrpcSupport.percentEncode("no healthy upstream".getBytes())).isEqualTo("no healthy upstream");
        assertThat(GrpcSupport.percentEncode("50% off\n".getBytes())).isEqualTo("50%25 off%0A");
        assertThat(GrpcSupport.percentEncode("a~b".getBytes())).isEqualTo("a%7Eb");
        assertThat(GrpcSupport.percentEncode(new byte[] {(byte) 0xff, 'x'})).isEqualTo("%FFx");
        assertThat(GrpcSupport.percentEncode("é".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isEqualTo(GrpcCommon.percentEncode("é")).isEqualTo("%C3%A9");
    }

    @Test
    void clearEmptiesAMap() {
        TestHeaderMap h = TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok", "x", "1");
        GrpcSupport.clear(h);
        assertThat(h.size()).isZero();
    }
}
