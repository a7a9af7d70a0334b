package dev.legate.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.host.plugin.fixture.EchoNetworkFilterFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginHostTest {

    private static final String ECHO = EchoNetworkFilterFactory.class.getName();

    @TempDir
    Path builtin;

    @TempDir
    Path user;

    @Test
    void loadsPlainJarPluginWithoutPluginClassAndRegistersItsFactories() throws Exception {
        PluginJars.write(builtin, "legate-test-echo", List.of(ECHO));

        try (PluginHost host = PluginHost.load(List.of(builtin, user.resolve("missing")), List.of())) {
            NetworkFilterFactory<?> f = host.registry().networkFilter(EchoNetworkFilterFactory.NAME);
            assertThat(f).isNotNull();
            // loaded from the jar by the plugin's own class loader, not from the test class path
            assertThat(f.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
            assertThat(host.plugins()).singleElement().satisfies(p -> {
                assertThat(p.id()).isEqualTo("legate-test-echo");
                assertThat(p.version()).isEqualTo("1.2.3");
                assertThat(p.state()).isEqualTo("STARTED");
                assertThat(p.filters()).containsExactly(EchoNetworkFilterFactory.NAME);
            });
        }
    }

    @Test
    void extensionsOnTheApplicationClassPathDoNotCount() throws Exception {
        // the test class path has a META-INF/extensions.idx naming ClasspathOnlyFactory; this plugin has none,
        // so stock PF4J would fall back to the application's index
        PluginJars.write(builtin, "legate-test-empty", List.of());

        try (PluginHost host = PluginHost.load(List.of(builtin), List.of())) {
            assertThat(host.registry().networkFilterNames()).isEmpty();
            assertThat(host.plugins()).singleElement().satisfies(p -> assertThat(p.filters()).isEmpty());
        }
    }

    @Test
    void sameFilterNameFromTwoPluginsFailsNamingBoth() throws Exception {
        PluginJars.write(builtin, "legate-first", List.of(ECHO));
        PluginJars.write(user, "legate-second", List.of(ECHO));

        assertThatThrownBy(() -> PluginHost.load(List.of(builtin, user), List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("duplicate network filter legate.test.echo: provided by plugin legate-first")
                .hasMessageContaining("and by plugin legate-second");
    }

    @Test
    void pluginAndApplicationFactoryWithTheSameNameFail() throws Exception {
        PluginJars.write(builtin, "legate-first", List.of(ECHO));

        assertThatThrownBy(() -> PluginHost.load(List.of(builtin), List.of(new EchoNetworkFilterFactory())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("plugin legate-first")
                .hasMessageContaining("the application");
    }

    @Test
    void jarWithoutPluginIdFailsNamingTheJar() throws Exception {
        Path jar = PluginJars.write(user, null, List.of());

        assertThatThrownBy(() -> PluginHost.load(List.of(user), List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("plugin " + jar.toAbsolutePath().normalize());
    }

    @Test
    void missingFoldersMeanNoPlugins() {
        try (PluginHost host = PluginHost.load(List.of(user.resolve("nope")), List.of(new EchoNetworkFilterFactory()))) {
            assertThat(host.plugins()).isEmpty();
            assertThat(host.registry().networkFilterNames()).containsExactly(EchoNetworkFilterFactory.NAME);
        }
        assertThat(Files.exists(user.resolve("nope"))).isFalse();
    }

    @Test
    void closeUnloadsPluginsOneByOne() throws Exception {
        PluginJars.write(builtin, "legate-a", List.of(ECHO));
        PluginJars.write(user, "legate-b", List.of());
        PluginHost host = PluginHost.load(List.of(builtin, user), List.of());
        assertThat(host.plugins()).extracting(PluginHost.PluginDescription::id).containsExactly("legate-a", "legate-b");

        host.close();
        host.close();

        assertThat(host.plugins()).isEmpty();
    }
}
