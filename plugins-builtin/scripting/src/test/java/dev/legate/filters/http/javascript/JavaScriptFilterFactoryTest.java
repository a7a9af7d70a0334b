package dev.legate.filters.http.javascript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import dev.legate.api.ConfigException;
import dev.legate.filters.http.javascript.v1.JavaScript;
import dev.legate.filters.http.javascript.v1.JavaScriptPerRoute;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.legate.testkit.TestFactoryContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config tier: what {@code legate.filters.http.javascript} accepts and each error message. */
class JavaScriptFilterFactoryTest {

    private final JavaScriptFilterFactory factory = new JavaScriptFilterFactory();

    static JavaScript inline(String script) {
        return JavaScript.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setInlineString(script))
                .build();
    }

    @Test
    void typeUrls() {
        assertThat(factory.name()).isEqualTo("legate.filters.http.javascript");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/legate.extensions.filters.http.javascript.v1.JavaScript");
        assertThat(factory.perRouteConfigType().typeUrl())
                .isEqualTo("type.googleapis.com/legate.extensions.filters.http.javascript.v1.JavaScriptPerRoute");
    }

    @Test
    void inlineSyntaxErrorNamesFieldAndLine() {
        try (TestFactoryContext ctx = new TestFactoryContext()) {
            assertThatThrownBy(() -> factory.create(inline("function envoy_on_request(h) {\n  h.headers(.add('a', 'b');\n}"), ctx))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("default_source_code: line 2: SyntaxError: ");
        }
    }

    @Test
    void perRouteSourceCodeIsCheckedAtLoad() {
        JavaScriptPerRoute bad = JavaScriptPerRoute.newBuilder()
                .setSourceCode(DataSource.newBuilder().setInlineString("function envoy_on_request(h) {\n  return )\n}"))
                .build();
        JavaScriptPerRoute named = JavaScriptPerRoute.newBuilder().setName("auth").build();
        try (TestFactoryContext ctx = new TestFactoryContext()) {
            assertThatThrownBy(() -> factory.createRouteSpecificConfig(bad, ctx))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("source_code: line 2: SyntaxError: ");
            assertThat(factory.createRouteSpecificConfig(named, ctx)).isSameAs(named);
        }
    }

    @Test
    void fileSyntaxErrorNamesFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("auth.js");
        Files.writeString(file, "// auth\n\nfunction envoy_on_request(h) {\n  return )\n}\n");
        JavaScript config = JavaScript.newBuilder()
                .putSourceCodes("auth", DataSource.newBuilder().setFilename("auth.js").build())
                .build();
        try (TestFactoryContext ctx = new TestFactoryContext().configDirectory(dir).validateOnly(true)) {
            assertThatThrownBy(() -> factory.create(config, ctx))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("source_codes[auth].filename: " + file + ":4: SyntaxError: ");
        }
    }

    @Test
    void missingFileIsAnError(@TempDir Path dir) {
        JavaScript config = JavaScript.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setFilename("nope.js"))
                .build();
        try (TestFactoryContext ctx = new TestFactoryContext().configDirectory(dir).validateOnly(true)) {
            assertThatThrownBy(() -> factory.create(config, ctx))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("default_source_code.filename: " + dir.resolve("nope.js") + " (cannot read: ");
        }
    }

    @Test
    void callTimeoutMustBePositive() {
        JavaScript config = inline("function envoy_on_request(h) {}").toBuilder()
                .setCallTimeout(Duration.newBuilder().setSeconds(0))
                .build();
        try (TestFactoryContext ctx = new TestFactoryContext()) {
            assertThatThrownBy(() -> factory.create(config, ctx))
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("call_timeout: 0s (expected: > 0)");
        }
    }

    @Test
    void validScriptBinds() {
        try (TestFactoryContext ctx = new TestFactoryContext()) {
            assertThat(factory.create(inline("async function envoy_on_request(h) { await h.body(); }"), ctx))
                    .isNotNull();
        }
    }
}
