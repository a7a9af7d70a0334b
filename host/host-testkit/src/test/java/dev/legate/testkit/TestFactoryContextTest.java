package dev.legate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterInstaller;
import org.junit.jupiter.api.Test;

class TestFactoryContextTest {

    private static final HttpFilterChainEntry ROUTER =
            new HttpFilterChainEntry("envoy.filters.http.router", callbacks -> new HttpFilter() { }, true);

    @Test
    void registeredHttpFiltersAreHandedOutAndTheCallsKept() {
        TestFactoryContext ctx = new TestFactoryContext().httpFilter(ROUTER);
        Any config = Any.newBuilder().setTypeUrl("type.googleapis.com/t.Config").build();
        FactoryContext scoped = ctx.withStats(ctx.stats().scope("http.ingress"));

        assertThat(scoped.httpFilter("envoy.filters.http.router", config, "http_filters[0]")).isSameAs(ROUTER);
        assertThat(scoped.perFilterConfig("envoy.filters.http.router", config, "typed_per_filter_config")).isSameAs(config);
        assertThat(ctx.httpFilterRequests()).containsExactly(new TestFactoryContext.HttpFilterRequest(
                "envoy.filters.http.router", config, "http_filters[0]", "http.ingress."));
        assertThat(ctx.perFilterConfigRequests()).containsExactly(new TestFactoryContext.PerFilterConfigRequest(
                "envoy.filters.http.router", config, "typed_per_filter_config"));
    }

    @Test
    void unknownHttpFiltersFailAsInTheHost() {
        TestFactoryContext ctx = new TestFactoryContext();
        assertThatThrownBy(() -> ctx.httpFilter("acme.missing", Any.getDefaultInstance(), "http_filters[1]"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("http_filters[1].name: no plugin provides HTTP filter acme.missing");
        assertThatThrownBy(() -> ctx.perFilterConfig("acme.missing", Any.getDefaultInstance(), "cfg"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("cfg: no plugin provides HTTP filter acme.missing");
    }

    @Test
    void httpServiceAndServiceNamesAreSettable() {
        TestFactoryContext ctx = new TestFactoryContext();
        assertThatThrownBy(ctx::http).isInstanceOf(UnsupportedOperationException.class);
        assertThat(ctx.serviceNode()).isEqualTo("test-node");
        assertThat(ctx.serviceCluster()).isEqualTo("test-cluster");

        NetworkFilterInstaller installer = callbacks -> new NetworkFilter() { };
        ctx.httpService(config -> installer).serviceNode("node-1").serviceCluster("cluster-1");
        assertThat(ctx.http().connectionManager(null)).isSameAs(installer);
        assertThat(ctx.serviceNode()).isEqualTo("node-1");
        assertThat(ctx.serviceCluster()).isEqualTo("cluster-1");
    }

    @Test
    void requestAndPeerShortcuts() {
        assertThat(TestHeaderMap.request("example.com", "/x").toString())
                .isEqualTo("{:method: GET, :path: /x, :authority: example.com}");
        assertThat(TestStreamInfo.from("10.0.0.1").downstreamRemoteAddress().toString()).isEqualTo("/10.0.0.1:40000");
    }
}
