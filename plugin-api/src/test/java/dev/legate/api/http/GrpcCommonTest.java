package dev.legate.api.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** Envoy's {@code Grpc::Common} and {@code Grpc::Utility} behaviour, value by value. */
class GrpcCommonTest {

    @Test
    void grpcRequestsNeedAPathAndTheExactContentTypeOrAPlusSuffix() {
        assertThat(GrpcCommon.isGrpcRequest(headers(":path", "/s/m", "content-type", "application/grpc"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequest(headers(":path", "/s/m", "content-type", "application/grpc+proto"))).isTrue();
        assertThat(GrpcCommon.isGrpcRequest(headers(":path", "/s/m", "content-type", "application/grpc-web"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequest(headers(":path", "/s/m", "content-type", "application/grpc;x=1"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequest(headers(":path", "/s/m", "content-type", "APPLICATION/GRPC"))).isFalse();
        assertThat(GrpcCommon.isGrpcRequest(headers("content-type", "application/grpc"))).as("no :path").isFalse();
        assertThat(GrpcCommon.isGrpcRequest(null)).isFalse();
    }

    @Test
    void grpcTimeoutUnitsRoundSubMillisecondValuesUp() {
        assertThat(GrpcCommon.parseTimeoutMillis("2H")).isEqualTo(7_200_000);
        assertThat(GrpcCommon.parseTimeoutMillis("3M")).isEqualTo(180_000);
        assertThat(GrpcCommon.parseTimeoutMillis("4S")).isEqualTo(4_000);
        assertThat(GrpcCommon.parseTimeoutMillis("250m")).isEqualTo(250);
        assertThat(GrpcCommon.parseTimeoutMillis("1500u")).isEqualTo(2);
        assertThat(GrpcCommon.parseTimeoutMillis("1000u")).isEqualTo(1);
        assertThat(GrpcCommon.parseTimeoutMillis("1n")).isEqualTo(1);
        assertThat(GrpcCommon.parseTimeoutMillis("0m")).isZero();
        assertThat(GrpcCommon.parseTimeoutMillis("99999999H")).isEqualTo(99_999_999L * 3_600_000L);
    }

    @Test
    void malformedGrpcTimeoutsReadAsAbsent() {
        for (String bad : new String[] {null, "", "S", "100", "100000000S", "1.5S", "-1S", "10s", "10 S", " 10S", "10Sx"}) {
            assertThat(GrpcCommon.parseTimeoutMillis(bad)).as(String.valueOf(bad)).isEqualTo(-1);
        }
    }

    @Test
    void formattedTimeoutsUseTheSmallestUnitThatFitsEightDigits() {
        assertThat(GrpcCommon.formatTimeout(0)).isEqualTo("0m");
        assertThat(GrpcCommon.formatTimeout(1_500)).isEqualTo("1500m");
        assertThat(GrpcCommon.formatTimeout(99_999_999)).isEqualTo("99999999m");
        assertThat(GrpcCommon.formatTimeout(100_000_000)).isEqualTo("100000S");
        assertThat(GrpcCommon.formatTimeout(100_000_000_000L)).isEqualTo("1666666M");
        assertThat(GrpcCommon.formatTimeout(Long.MAX_VALUE)).isEqualTo("99999999H");
    }

    @Test
    void grpcStatusReadsKnownCodesOnly() {
        assertThat(GrpcCommon.grpcStatus(headers("grpc-status", "14"))).isEqualTo(14);
        assertThat(GrpcCommon.grpcStatus(headers("grpc-status", "0"))).isZero();
        assertThat(GrpcCommon.grpcStatus(headers("grpc-status", "17"))).isEqualTo(-1);
        assertThat(GrpcCommon.grpcStatus(headers("grpc-status", "x"))).isEqualTo(-1);
        assertThat(GrpcCommon.grpcStatus(headers())).isEqualTo(-1);
    }

    @Test
    void httpAndGrpcStatusMappingsFollowEnvoy() {
        assertThat(GrpcCommon.httpToGrpcStatus(400)).isEqualTo(13);
        assertThat(GrpcCommon.httpToGrpcStatus(401)).isEqualTo(16);
        assertThat(GrpcCommon.httpToGrpcStatus(403)).isEqualTo(7);
        assertThat(GrpcCommon.httpToGrpcStatus(404)).isEqualTo(12);
        for (int code : new int[] {429, 502, 503, 504}) {
            assertThat(GrpcCommon.httpToGrpcStatus(code)).isEqualTo(14);
        }
        assertThat(GrpcCommon.httpToGrpcStatus(500)).isEqualTo(2);
        assertThat(GrpcCommon.httpToGrpcStatus(408)).isEqualTo(2);
        assertThat(GrpcCommon.grpcToHttpStatus(4)).isEqualTo(504);
        assertThat(GrpcCommon.grpcToHttpStatus(12)).isEqualTo(501);
        assertThat(GrpcCommon.grpcToHttpStatus(14)).isEqualTo(503);
        assertThat(GrpcCommon.grpcToHttpStatus(-1)).isEqualTo(500);
    }

    @Test
    void grpcMessagePercentEncodesControlNonAsciiTildeAndPercent() {
        assertThat(GrpcCommon.percentEncode("no healthy upstream")).isEqualTo("no healthy upstream");
        assertThat(GrpcCommon.percentEncode("50%\n~é")).isEqualTo("50%25%0A%7E%C3%A9");
    }

    @Test
    void rawBytesPercentEncodeAsTheirString() {
        assertThat(GrpcCommon.percentEncode("no healthy upstream".getBytes())).isEqualTo("no healthy upstream");
        assertThat(GrpcCommon.percentEncode("50% off\n".getBytes())).isEqualTo("50%25 off%0A");
        assertThat(GrpcCommon.percentEncode("a~b".getBytes())).isEqualTo("a%7Eb");
        assertThat(GrpcCommon.percentEncode(new byte[] {(byte) 0xff, 'x'})).isEqualTo("%FFx");
        assertThat(GrpcCommon.percentEncode("é".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .isEqualTo(GrpcCommon.percentEncode("é")).isEqualTo("%C3%A9");
    }

    @Test
    void grpcResponseHeaders() {
        assertThat(GrpcCommon.isGrpcResponseHeaders(headers(":status", "200", "grpc-status", "14"), true)).isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(headers(":status", "200", "grpc-status", "14"), false)).isFalse();
        assertThat(GrpcCommon.isGrpcResponseHeaders(headers(":status", "200", "content-type", "application/grpc"), false))
                .isTrue();
        assertThat(GrpcCommon.isGrpcResponseHeaders(headers(":status", "200", "content-type", "application/grpc"), true))
                .isFalse();
        assertThat(GrpcCommon.isGrpcResponseHeaders(headers(":status", "503", "content-type", "application/grpc"), false))
                .isFalse();
    }

    @Test
    void protobufRequestIsExactContentTypeWithAPath() {
        assertThat(GrpcCommon.isProtobufRequest(headers(":path", "/a/b", "content-type", "application/x-protobuf"))).isTrue();
        assertThat(GrpcCommon.isProtobufRequest(headers("content-type", "application/x-protobuf"))).isFalse();
        assertThat(GrpcCommon.isProtobufRequest(headers(":path", "/a/b", "content-type", "application/x-protobuf; x=1")))
                .isFalse();
    }

    @Test
    void serviceAndMethodFromPath() {
        assertThat(GrpcCommon.resolveServiceAndMethod("/grpc.testing.TestService/UnaryCall"))
                .isEqualTo(new GrpcCommon.RequestNames("grpc.testing.TestService", "UnaryCall"));
        assertThat(GrpcCommon.resolveServiceAndMethod("/svc/m?x=1")).isEqualTo(new GrpcCommon.RequestNames("svc", "m"));
        assertThat(GrpcCommon.resolveServiceAndMethod("//svc//m/")).isEqualTo(new GrpcCommon.RequestNames("svc", "m"));
        assertThat(GrpcCommon.resolveServiceAndMethod("/svc")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod("/a/b/c")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod("/")).isNull();
        assertThat(GrpcCommon.resolveServiceAndMethod(null)).isNull();
    }

    private static HeaderMap headers(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return new MapHeaders(m);
    }

    /** A read-only map over a {@link LinkedHashMap}: enough for these static helpers. */
    private record MapHeaders(Map<String, String> map) implements HeaderMap {
        @Override
        public String get(CharSequence name) {
            return map.get(name.toString());
        }

        @Override
        public List<String> getAll(CharSequence name) {
            String v = get(name);
            return v == null ? List.of() : List.of(v);
        }

        @Override
        public boolean contains(CharSequence name) {
            return map.containsKey(name.toString());
        }

        @Override
        public HeaderMap add(CharSequence name, String value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HeaderMap set(CharSequence name, String value) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean remove(CharSequence name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int size() {
            return map.size();
        }

        @Override
        public long byteSize() {
            return 0;
        }

        @Override
        public void forEach(BiConsumer<String, String> action) {
            map.forEach(action);
        }

        @Override
        public java.util.Iterator<Map.Entry<String, String>> iterator() {
            return new ArrayList<>(map.entrySet()).iterator();
        }
    }
}
