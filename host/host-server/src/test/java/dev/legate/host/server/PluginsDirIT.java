package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A third-party plugin jar dropped into --plugins-dir is all it takes. */
class PluginsDirIT {

    static final String CONFIG = Proxy.httpConfig(
            "{ virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ { match: { prefix: \"/\" },"
                    + " direct_response: { status: 200, body: { inline_string: \"hello\" } } } ] } ] }",
            "[]",
            "{ name: legate.examples.add_header, typed_config: { \"@type\": type.googleapis.com/xds.type.v3.TypedStruct,"
                    + " type_url: type.googleapis.com/legate.examples.AddHeader,"
                    + " value: { header: x-legate-example, value: hello } } }");

    @Test
    void exampleJarInPluginsDirAddsItsHeader(@TempDir Path plugins) throws Exception {
        Files.copy(Proxy.DIST.resolve("examples/legate-example-add-header.jar"),
                plugins.resolve("legate-example-add-header.jar"));
        try (Proxy proxy = new Proxy(CONFIG, plugins)) {
            HttpResponse<String> r = proxy.get("listener_0", "/");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("hello");
            assertThat(r.headers().firstValue("x-legate-example")).hasValue("hello");
            String listed = proxy.admin("GET", "/plugins").body();
            assertThat(listed).contains("legate-example-add-header").contains("legate.examples.add_header");
        }
    }

    @Test
    void withoutThePluginTheFilterNameIsAStartupError(@TempDir Path empty) {
        assertThatThrownBy(() -> new Proxy(CONFIG, empty))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http_filters[0]")
                .hasMessageContaining("legate.examples.add_header");
    }

    @Test
    void aBadRecordConfigNamesTheField(@TempDir Path plugins) throws Exception {
        Files.copy(Proxy.DIST.resolve("examples/legate-example-add-header.jar"),
                plugins.resolve("legate-example-add-header.jar"));
        String bad = CONFIG.replace("value: { header: x-legate-example, value: hello }",
                "value: { heder: x-legate-example, value: hello }");
        assertThatThrownBy(() -> new Proxy(bad, plugins))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("http_filters[0].typed_config")
                .hasMessageContaining("heder");
    }
}
