package dev.legate.examples.addheader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.legate.api.ConfigException;
import dev.legate.testkit.TestFactoryContext;
import org.junit.jupiter.api.Test;

/** Config tier: the record, its validation messages and the factory's registration. */
class AddHeaderConfigTest {

    @Test
    void registration() {
        AddHeaderFilterFactory f = new AddHeaderFilterFactory();
        assertThat(f.name()).isEqualTo("legate.examples.add_header");
        assertThat(f.configType().typeUrl()).isEqualTo("type.googleapis.com/legate.examples.AddHeader");
        assertThat(f.configType().isProto()).isFalse();
        assertThat(f.configType().javaType()).isEqualTo(AddHeaderConfig.class);
        assertThat(f.isTerminal()).isFalse();
        assertThat(f.perRouteConfigType()).isNull();
    }

    @Test
    void headerIsLowerCased() {
        AddHeaderConfig c = new AddHeaderConfig("X-Served-By", "Legate");
        c.validate();
        assertThat(c.header()).isEqualTo("x-served-by");
        assertThat(c.value()).isEqualTo("Legate");
    }

    @Test
    void errorsNameTheField() {
        assertError(new AddHeaderConfig("", "v"), "header: \"\" (expected: a non-empty header name)");
        assertError(new AddHeaderConfig(null, "v"), "header: \"\" (expected: a non-empty header name)");
        assertError(new AddHeaderConfig(":status", "200"),
                "header: \":status\" (expected: a regular header, not a pseudo-header)");
        assertError(new AddHeaderConfig("bad header", "v"),
                "header: \"bad header\" (expected: a header name made of letters, digits and !#$%&'*+-.^_`|~)");
        assertError(new AddHeaderConfig("x-a", null), "value: missing (expected: a string; \"\" is allowed)");
        assertError(new AddHeaderConfig("x-a", "a\r\nset-cookie: x"),
                "value: \"a\\r\\nset-cookie: x\" (expected: no CR, LF or NUL)");
    }

    @Test
    void factoryRejectsAnInvalidConfigToo() {
        assertThatThrownBy(() -> new AddHeaderFilterFactory().create(new AddHeaderConfig("", "v"), new TestFactoryContext()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("header: \"\" (expected: a non-empty header name)");
    }

    /**
     * The host binds a TypedStruct's {@code value} with Jackson (snake_case, unknown keys fail); the record
     * must bind that way. The same mapper settings as the host's ConfigBinder.
     */
    @Test
    void bindsFromTypedStructValueAsTheHostDoes() throws Exception {
        ObjectMapper mapper = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
        AddHeaderConfig c = mapper.readValue("{\"header\":\"X-Served-By\",\"value\":\"legate\"}", AddHeaderConfig.class);
        assertThat(c).isEqualTo(new AddHeaderConfig("x-served-by", "legate"));
        AddHeaderConfig missing = mapper.readValue("{\"value\":\"v\"}", AddHeaderConfig.class);
        assertError(missing, "header: \"\" (expected: a non-empty header name)");
        assertThatThrownBy(() -> mapper.readValue("{\"header\":\"x\",\"valeu\":\"v\"}", AddHeaderConfig.class))
                .isInstanceOf(UnrecognizedPropertyException.class);
    }

    private static void assertError(AddHeaderConfig config, String message) {
        assertThatThrownBy(config::validate).isInstanceOf(ConfigException.class).hasMessage(message);
    }
}
