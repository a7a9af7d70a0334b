package dev.legate.host.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.config.Validatable;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.host.plugin.FilterRegistry;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigBinderTest {

    /** A plugin's record config. */
    public record AddHeaderSettings(String header, String value, int maxCount, List<String> tags)
            implements Validatable {
        @Override
        public void validate() {
            if (header == null || header.isEmpty()) {
                throw ConfigException.at("header", "\"\" (expected: a non-empty header name)");
            }
        }
    }

    static final ConfigType<AddHeaderSettings> RECORD = ConfigType.record("legate.test.AddHeader",
            AddHeaderSettings.class);

    record Factory<C>(String name, ConfigType<C> configType) implements HttpFilterFactory<C> {
        @Override
        public HttpFilterInstaller create(C config, FactoryContext context) {
            return callbacks -> new HttpFilter() { };
        }
    }

    private final FilterRegistry filters = FilterRegistry.builder()
            .add("legate-add-header", new Factory<>("legate.test.add_header", RECORD))
            .add("legate-router", new Factory<>("envoy.filters.http.router", ConfigType.proto(Router.getDefaultInstance())))
            .add("legate-tcp", new Factory<>("test.tcp_like", ConfigType.proto(TcpProxy.getDefaultInstance())))
            .build();
    private final ConfigBinder binder = new ConfigBinder(ConfigTypeRegistry.build(filters), filters);

    @Test
    void typedStructBindsToARecordWithSnakeCaseKeys() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct", "type.googleapis.com/legate.test.AddHeader",
                "{\"header\": \"x-hello\", \"value\": \"world\", \"max_count\": 3, \"tags\": [\"a\", \"b\"]}");

        AddHeaderSettings s = binder.bind(RECORD, any, "legate.test.add_header", "http_filters[1].typed_config");

        assertThat(s).isEqualTo(new AddHeaderSettings("x-hello", "world", 3, List.of("a", "b")));
    }

    @Test
    void udpaTypedStructWorksToo() throws Exception {
        Any any = typedStruct("udpa.type.v1.TypedStruct", "legate.test.AddHeader", "{\"header\": \"x\"}");

        assertThat(binder.bind(RECORD, any, "f", "p").header()).isEqualTo("x");
    }

    @Test
    void unknownKeyNamesItsPathUnderValue() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct", "type.googleapis.com/legate.test.AddHeader",
                "{\"heder\": \"x-hello\"}");

        assertThatThrownBy(() -> binder.bind(RECORD, any, "legate.test.add_header", "http_filters[1].typed_config"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("http_filters[1].typed_config.value.heder: unknown field");
    }

    @Test
    void validateErrorsCarryThePath() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct", "type.googleapis.com/legate.test.AddHeader",
                "{\"value\": \"v\"}");

        assertThatThrownBy(() -> binder.bind(RECORD, any, "legate.test.add_header", "http_filters[1].typed_config"))
                .hasMessage("http_filters[1].typed_config.value.header: \"\" (expected: a non-empty header name)");
    }

    @Test
    void wrongValueTypeNamesTheField() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct", "type.googleapis.com/legate.test.AddHeader",
                "{\"header\": \"h\", \"max_count\": \"many\"}");

        assertThatThrownBy(() -> binder.bind(RECORD, any, "f", "t"))
                .hasMessageStartingWith("t.value.max_count: ");
    }

    @Test
    void protoConfigIsUnpacked() {
        Any any = Any.pack(Router.newBuilder().setSuppressEnvoyHeaders(true).build());

        Router r = binder.bind(ConfigType.proto(Router.getDefaultInstance()), any, "envoy.filters.http.router", "t");

        assertThat(r.getSuppressEnvoyHeaders()).isTrue();
    }

    @Test
    void configOfAnotherFilterNamesBoth() {
        Any any = Any.pack(TcpProxy.newBuilder().setStatPrefix("x").build());

        assertThatThrownBy(() -> binder.bind(ConfigType.proto(Router.getDefaultInstance()), any,
                "envoy.filters.http.router", "http_filters[0].typed_config"))
                .hasMessage("http_filters[0].typed_config: "
                        + "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy is the config "
                        + "of filter test.tcp_like, not of envoy.filters.http.router "
                        + "(expected: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router)");
    }

    @Test
    void typedStructOfAnotherTypeIsAMismatch() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct", "type.googleapis.com/legate.test.Other", "{}");

        assertThatThrownBy(() -> binder.bind(RECORD, any, "legate.test.add_header", "t"))
                .hasMessageStartingWith("t.type_url: type.googleapis.com/legate.test.Other is not the config of "
                        + "filter legate.test.add_header");
    }

    @Test
    void typedStructCanCarryAProtoConfig() throws Exception {
        Any any = typedStruct("xds.type.v3.TypedStruct",
                "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                "{\"suppress_envoy_headers\": true}");

        Router r = binder.bind(ConfigType.proto(Router.getDefaultInstance()), any, "envoy.filters.http.router", "t");

        assertThat(r.getSuppressEnvoyHeaders()).isTrue();
    }

    @Test
    void missingProtoConfigMeansDefaults() {
        assertThat(binder.bind(ConfigType.proto(Router.getDefaultInstance()), null, "r", "t"))
                .isEqualTo(Router.getDefaultInstance());
        assertThatThrownBy(() -> binder.bind(RECORD, null, "legate.test.add_header", "t"))
                .hasMessageStartingWith("t: missing");
    }

    private static Any typedStruct(String wrapper, String typeUrl, String valueJson) throws Exception {
        Struct.Builder value = Struct.newBuilder();
        JsonFormat.parser().merge(valueJson, value);
        if (wrapper.startsWith("xds")) {
            return Any.pack(com.github.xds.type.v3.TypedStruct.newBuilder().setTypeUrl(typeUrl)
                    .setValue(value).build());
        }
        return Any.pack(com.github.udpa.udpa.type.v1.TypedStruct.newBuilder().setTypeUrl(typeUrl)
                .setValue(value).build());
    }

    @SuppressWarnings("unused")
    private static Value unused() {
        return Value.getDefaultInstance();
    }
}
