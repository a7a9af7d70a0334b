package dev.legate.filters.http.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.GrpcCommon;
import dev.legate.testkit.TestHeaderMap;
import org.junit.jupiter.api.Test;

/**
 * Envoy's {@code Grpc::Common} rules as the filters use them over the test kit's header map (the SPI's
 * {@code GrpcCommon}, whose own test covers the rest), and {@link GrpcSupport}.
 */
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
    void grpcResponseHeadersReadTheTestKitsStatus() {
        assertThat(GrpcCommon.isGrpcResponseHeaders(TestHeaderMap.of(":status", "200", "grpc-status", "14"), true)).isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(
                TestHeaderMap.of(":status", "200", "content-type", "application/grpc"), false)).isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(
                TestHeaderMap.of(":status", "503", "content-type", "application/grpc"), false)).isFalse();
    }

    @Test
    void clearEmptiesAMap() {
        TestHeaderMap h = TestHeaderMap.of("grpc-status", "0", "grpc-message", "ok", "x", "1");
        GrpcSupport.clear(h);
        assertThat(h.size()).isZero();
    }
}
