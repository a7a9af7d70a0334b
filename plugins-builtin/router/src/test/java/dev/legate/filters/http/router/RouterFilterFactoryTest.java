package dev.legate.filters.http.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.filters.http.router.RouterFakes.RecordingLogger;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import org.junit.jupiter.api.Test;

/** Config tier: what the factory declares and which {@code Router} fields it refuses, by name. */
class RouterFilterFactoryTest {

    private final RouterFilterFactory factory = new RouterFilterFactory();
    private final FactoryContext context = RouterFakes.hcmContext(new TestFactoryContext().accessLogger(new RecordingLogger()));

    @Test
    void declaresEnvoyNameTypeAndTerminal() {
        assertThat(factory.name()).isEqualTo("envoy.filters.http.router");
        assertThat(factory.isTerminal()).isTrue();
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.http.router.v3.Router");
        assertThat(factory.perRouteConfigType()).isNull();
    }

    @Test
    void defaultConfigBinds() {
        assertThat(factory.create(Router.getDefaultInstance(), context)).isNotNull();
        RouterSettings settings = RouterSettings.from(Router.getDefaultInstance(), context);
        assertThat(settings.dynamicStats()).isTrue();
        assertThat(settings.suppressEnvoyHeaders()).isFalse();
        assertThat(settings.upstreamLog()).isNull();
        assertThat(settings.suppressGrpcRequestFailureCodeStats()).isFalse();
    }

    @Test
    void suppressGrpcRequestFailureCodeStatsBinds() {
        Router config = Router.newBuilder().setSuppressGrpcRequestFailureCodeStats(true).build();
        assertThat(RouterSettings.from(config, context).suppressGrpcRequestFailureCodeStats()).isTrue();
    }

    @Test
    void upstreamHttpFiltersAreRefused() {
        Router config = Router.newBuilder()
                .addUpstreamHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.upstream_codec"))
                .build();
        assertThatThrownBy(() -> factory.create(config, context))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstream_http_filters: ");
    }

    @Test
    void upstreamLogFlushIntervalIsRefused() {
        Router config = Router.newBuilder()
                .setUpstreamLogOptions(Router.UpstreamAccessLogOptions.newBuilder()
                        .setUpstreamLogFlushInterval(Duration.newBuilder().setSeconds(1)))
                .build();
        assertThatThrownBy(() -> factory.create(config, context))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("upstream_log_options.upstream_log_flush_interval: ");
    }

    @Test
    void unknownStrictCheckHeaderIsRefusedByIndex() {
        Router config = Router.newBuilder()
                .addStrictCheckHeaders("x-envoy-max-retries")
                .addStrictCheckHeaders("x-foo")
                .build();
        assertThatThrownBy(() -> factory.create(config, context))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("strict_check_headers[1]: x-foo (expected: one of ");
    }

    @Test
    void startChildSpanOnlyWarns() {
        @SuppressWarnings("deprecation")
        Router config = Router.newBuilder().setStartChildSpan(true).build();
        assertThat(factory.create(config, context)).isNotNull();
    }
}
