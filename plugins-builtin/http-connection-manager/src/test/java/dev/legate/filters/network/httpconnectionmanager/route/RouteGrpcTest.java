package dev.legate.filters.network.httpconnectionmanager.route;

import static dev.legate.filters.network.httpconnectionmanager.route.RouteTableTest.clusterOf;
import static dev.legate.filters.network.httpconnectionmanager.route.RouteTableTest.table;
import static dev.legate.filters.network.httpconnectionmanager.route.RouteTableTest.vh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.api.http.RouteEntry;
import dev.legate.testkit.TestHeaderMap;
import org.junit.jupiter.api.Test;

/** Route table tier for gRPC: {@code match.grpc} and the gRPC / stream-duration timeout fields of a route. */
class RouteGrpcTest {

    private static TestHeaderMap request(String contentType) {
        TestHeaderMap h = TestHeaderMap.request("h", "/helloworld.Greeter/SayHello");
        h.set(":method", "POST");
        if (contentType != null) {
            h.set("content-type", contentType);
        }
        return h;
    }

    private static RouteEntry entry(String action) {
        RouteTable t = table(vh("v", "*", "routes { match { prefix: '/' } route { cluster: 'a' " + action + " } }"));
        return t.route(request("application/grpc")).routeEntry();
    }

    @Test
    void grpcMatchTakesOnlyGrpcContentTypes() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/' grpc { } } route { cluster: 'a' } } "
                + "routes { match { prefix: '/' } route { cluster: 'b' } }"));

        assertThat(clusterOf(t, request("application/grpc"))).isEqualTo("a");
        assertThat(clusterOf(t, request("application/grpc+proto"))).isEqualTo("a");
        assertThat(clusterOf(t, request("application/grpc-web"))).as("gRPC-Web is not gRPC").isEqualTo("b");
        assertThat(clusterOf(t, request("application/grpc-web-text"))).isEqualTo("b");
        assertThat(clusterOf(t, request("application/grpcx"))).isEqualTo("b");
        assertThat(clusterOf(t, request("Application/gRPC"))).as("case-sensitive, as Envoy").isEqualTo("b");
        assertThat(clusterOf(t, request("application/json"))).isEqualTo("b");
        assertThat(clusterOf(t, request(null))).isEqualTo("b");
    }

    @Test
    void grpcMatchCombinesWithThePathAndHeaders() {
        RouteTable t = table(vh("v", "*", ""
                + "routes { match { prefix: '/helloworld.' grpc { } headers { name: 'x-tier' string_match { exact: 'gold' } } } "
                + "route { cluster: 'a' } } "
                + "routes { match { prefix: '/' } route { cluster: 'b' } }"));
        TestHeaderMap gold = request("application/grpc");
        gold.set("x-tier", "gold");
        assertThat(clusterOf(t, gold)).isEqualTo("a");
        assertThat(clusterOf(t, request("application/grpc"))).isEqualTo("b");
        TestHeaderMap otherPath = TestHeaderMap.request("h", "/other.Service/Call");
        otherPath.set("content-type", "application/grpc");
        otherPath.set("x-tier", "gold");
        assertThat(clusterOf(t, otherPath)).isEqualTo("b");
    }

    @Test
    void maxGrpcTimeoutAndOffsetAreCompiled() {
        RouteEntry e = entry("max_grpc_timeout { seconds: 5 } grpc_timeout_offset { nanos: 50000000 }");
        assertThat(e.maxGrpcTimeoutMillis()).isEqualTo(5_000);
        assertThat(e.grpcTimeoutOffsetMillis()).isEqualTo(50);
        assertThat(e.maxStreamDuration()).isNull();

        RouteEntry zero = entry("max_grpc_timeout { }");
        assertThat(zero.maxGrpcTimeoutMillis()).as("0s: no cap, still set").isZero();

        RouteEntry none = entry("");
        assertThat(none.maxGrpcTimeoutMillis()).isEqualTo(-1);
        assertThat(none.grpcTimeoutOffsetMillis()).isZero();
        assertThat(none.maxStreamDuration()).isNull();
    }

    @Test
    void maxStreamDurationIsCompiledFieldByField() {
        assertThat(entry("max_stream_duration { grpc_timeout_header_max { seconds: 30 } "
                + "grpc_timeout_header_offset { nanos: 100000000 } }").maxStreamDuration())
                .isEqualTo(new RouteEntry.MaxStreamDuration(-1, 30_000, 100));
        assertThat(entry("max_stream_duration { max_stream_duration { seconds: 2 } }").maxStreamDuration())
                .isEqualTo(new RouteEntry.MaxStreamDuration(2_000, -1, -1));
        assertThat(entry("max_stream_duration { }").maxStreamDuration())
                .isEqualTo(new RouteEntry.MaxStreamDuration(-1, -1, -1));
    }

    @Test
    void negativeDurationsAreRefusedWithTheirPath() {
        assertThatThrownBy(() -> entry("grpc_timeout_offset { seconds: -2 }"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("route_config.virtual_hosts[0].routes[0].route.grpc_timeout_offset: -2s (expected: >= 0)");
        assertThatThrownBy(() -> entry("max_stream_duration { grpc_timeout_header_max { seconds: -1 } }"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("route_config.virtual_hosts[0].routes[0].route.max_stream_duration.grpc_timeout_header_max: "
                        + "-1s (expected: >= 0)");
    }
}
