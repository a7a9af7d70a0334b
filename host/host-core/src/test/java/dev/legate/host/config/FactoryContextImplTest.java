package dev.legate.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.host.plugin.FilterRegistry;
import dev.legate.host.stats.StatsStore;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link FactoryContextImpl#perFilterConfig}: binding a {@code typed_per_filter_config} entry and the factory's hook. */
class FactoryContextImplTest {

    private static final ConfigType<Router> PER_ROUTE = ConfigType.proto(Router.getDefaultInstance());
    private static final String PATH = "route_config.virtual_hosts[0].typed_per_filter_config[\"legate.test.compiling\"]";

    /** What {@link CompilingFactory} makes of a bound per-route config. */
    record Compiled(Router bound, FactoryContext context) {
    }

    /** A filter whose hook compiles its per-route config, refusing {@code suppress_envoy_headers: true}. */
    static final class CompilingFactory implements HttpFilterFactory<Router> {
        final List<Object> hookCalls = new ArrayList<>();

        @Override
        public String name() {
            return "legate.test.compiling";
        }

        @Override
        public ConfigType<Router> configType() {
            return PER_ROUTE;
        }

        @Override
        public ConfigType<?> perRouteConfigType() {
            return PER_ROUTE;
        }

        @Override
        public Object createRouteSpecificConfig(Object config, FactoryContext context) {
            hookCalls.add(config);
            Router r = (Router) config;
            if (r.getSuppressEnvoyHeaders()) {
                throw ConfigException.at("suppress_envoy_headers", "true (expected: false)");
            }
            if (r.getRespectExpectedRqTimeout()) {
                throw new IllegalStateException("plugin bug");
            }
            return new Compiled(r, context);
        }

        @Override
        public HttpFilterInstaller create(Router config, FactoryContext context) {
            return callbacks -> new HttpFilter() { };
        }
    }

    /** A filter with a per-route type and the default hook. */
    record PlainFactory(String name, ConfigType<Router> configType) implements HttpFilterFactory<Router> {
        @Override
        public ConfigType<?> perRouteConfigType() {
            return configType;
        }

        @Override
        public HttpFilterInstaller create(Router config, FactoryContext context) {
            return callbacks -> new HttpFilter() { };
        }
    }

    /** A filter without per-route config. */
    record NoPerRouteFactory(String name, ConfigType<Router> configType) implements HttpFilterFactory<Router> {
        @Override
        public HttpFilterInstaller create(Router config, FactoryContext context) {
            return callbacks -> new HttpFilter() { };
        }
    }

    private final CompilingFactory compiling = new CompilingFactory();
    private final FilterRegistry filters = FilterRegistry.builder()
            .add("legate-compiling", compiling)
            .add("legate-plain", new PlainFactory("legate.test.plain", ConfigType.proto(Router.getDefaultInstance())))
            .add("legate-none", new NoPerRouteFactory("legate.test.none", ConfigType.proto(Router.getDefaultInstance())))
            .build();
    private final FactoryContextImpl context = new FactoryContextImpl(new FactoryContextImpl.Shared(filters,
            new ConfigBinder(ConfigTypeRegistry.build(filters), filters), null, null, "node-1", "cluster-1",
            Path.of("."), false, new ArrayList<>()), new StatsStore().root());

    @Test
    void theHookGetsTheBoundConfigAndItsResultIsWhatTheRouteHolds() {
        Router router = Router.newBuilder().setStartChildSpan(true).build();

        Object result = context.perFilterConfig("legate.test.compiling", Any.pack(router), PATH);

        assertThat(compiling.hookCalls).containsExactly(router);
        assertThat(result).isEqualTo(new Compiled(router, context));
    }

    @Test
    void aConfigExceptionOfTheHookGetsTheEntryPathInFront() {
        Any any = Any.pack(Router.newBuilder().setSuppressEnvoyHeaders(true).build());

        assertThatThrownBy(() -> context.perFilterConfig("legate.test.compiling", any, PATH))
                .isInstanceOf(ConfigException.class)
                .hasMessage(PATH + ".suppress_envoy_headers: true (expected: false)");
        assertThat(compiling.hookCalls).hasSize(1);
    }

    @Test
    void anyOtherRuntimeExceptionOfTheHookBecomesAConfigErrorAtTheEntry() {
        Any any = Any.pack(Router.newBuilder().setRespectExpectedRqTimeout(true).build());

        assertThatThrownBy(() -> context.perFilterConfig("legate.test.compiling", any, PATH))
                .isInstanceOf(ConfigException.class)
                .hasMessage(PATH + ": java.lang.IllegalStateException: plugin bug")
                .cause().isInstanceOf(IllegalStateException.class).hasMessage("plugin bug");
        assertThat(compiling.hookCalls).hasSize(1);
    }

    @Test
    void theDefaultHookReturnsTheBoundConfig() {
        Router router = Router.newBuilder().setStartChildSpan(true).build();

        assertThat(context.perFilterConfig("legate.test.plain", Any.pack(router), PATH)).isEqualTo(router);
    }

    @Test
    void aBindingErrorComesBeforeTheHook() {
        Any wrongType = Any.pack(com.google.protobuf.StringValue.of("x"));

        assertThatThrownBy(() -> context.perFilterConfig("legate.test.compiling", wrongType, PATH))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(PATH + ": ");
        assertThat(compiling.hookCalls).isEmpty();
    }

    @Test
    void aFilterWithoutPerRouteConfigOrWithoutPluginIsAnError() {
        Any any = Any.pack(Router.getDefaultInstance());

        assertThatThrownBy(() -> context.perFilterConfig("legate.test.none", any, PATH))
                .hasMessage(PATH + ": filter legate.test.none takes no per-route config");
        assertThatThrownBy(() -> context.perFilterConfig("legate.test.absent", any, PATH))
                .hasMessage(PATH + ": no plugin provides HTTP filter legate.test.absent");
    }
}
