package dev.legate.filters.http.lua;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.BoolValue;
import dev.legate.api.ConfigException;
import dev.legate.filters.http.scripting.ScriptLimits;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.LuaPerRoute;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config tier: {@code Lua}/{@code LuaPerRoute} → settings, and each error message. */
class LuaConfigTest {

    @TempDir
    Path dir;

    private final TestFactoryContext context = new TestFactoryContext();

    @AfterEach
    void close() {
        context.close();
    }

    private LuaSettings bind(Lua config) {
        return LuaSettings.from(config, context.configDirectory(dir), ScriptLimits.DEFAULT);
    }

    private static DataSource inline(String code) {
        return DataSource.newBuilder().setInlineString(code).build();
    }

    @Test
    void inlineSyntaxErrorNamesTheFieldAndLine() {
        assertThatThrownBy(() -> bind(Lua.newBuilder().setInlineCode("""
                function envoy_on_request(h)
                  local x =
                end
                """).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("inline_code: line 3: unexpected symbol near 'end'");
    }

    @Test
    void defaultSourceCodeSyntaxErrorNamesTheField() {
        assertThatThrownBy(() -> bind(Lua.newBuilder().setDefaultSourceCode(inline("x = = 1")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("default_source_code: line 1: unexpected symbol near '='");
    }

    @Test
    void fileSyntaxErrorNamesTheFileAndLine() throws Exception {
        Path file = dir.resolve("bad.lua");
        Files.writeString(file, "-- ok\n\nfunction f(\n");
        assertThatThrownBy(() -> bind(Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setFilename("bad.lua")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("default_source_code.filename: " + file + ":4: <name> or '...' expected");
    }

    @Test
    void failingTopLevelCodeIsAConfigError() {
        assertThatThrownBy(() -> bind(Lua.newBuilder().putSourceCodes("x", inline("error('no')")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("source_codes[x]: line 1: no");
    }

    @Test
    void missingFileIsAConfigError() {
        assertThatThrownBy(() -> bind(Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setFilename("nope.lua")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("default_source_code.filename: " + dir.resolve("nope.lua") + " (cannot read: ");
    }

    @Test
    void inlineCodeAndDefaultSourceCodeAreExclusive() {
        assertThatThrownBy(() -> bind(Lua.newBuilder().setInlineCode("x = 1")
                .setDefaultSourceCode(inline("y = 1")).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("inline_code: set together with default_source_code (expected: only one of them)");
    }

    @Test
    void emptyDataSourceIsAConfigError() {
        assertThatThrownBy(() -> bind(Lua.newBuilder().setDefaultSourceCode(DataSource.getDefaultInstance()).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("default_source_code: empty (expected: one of inline_string, inline_bytes, filename, "
                        + "environment_variable)");
    }

    @Test
    void statsLiveUnderLuaAndTheOptionalStatPrefix() {
        LuaSettings plain = bind(Lua.newBuilder().setInlineCode("x = 1").build());
        plain.stats().errors.inc();
        LuaSettings prefixed = bind(Lua.newBuilder().setInlineCode("x = 1").setStatPrefix("auth").build());
        prefixed.stats().errors.inc();
        prefixed.stats().errors.inc();
        assertThat(context.statsStore().counter("lua.errors")).isEqualTo(1);
        assertThat(context.statsStore().counter("lua.auth.errors")).isEqualTo(2);
    }

    @Test
    void clearRouteCacheDefaultsToTrue() {
        assertThat(bind(Lua.newBuilder().setInlineCode("x = 1").build()).clearRouteCache()).isTrue();
        assertThat(bind(Lua.newBuilder().setInlineCode("x = 1").setClearRouteCache(BoolValue.of(false)).build())
                .clearRouteCache()).isFalse();
    }

    @Test
    void perRouteSelectsDisabledNamedOrInlineScripts() {
        LuaSettings s = bind(Lua.newBuilder().setInlineCode("x = 1").putSourceCodes("named", inline("y = 2")).build());
        assertThat(s.programFor(null)).isSameAs(s.defaultProgram());
        assertThat(s.programFor(LuaPerRoute.newBuilder().setDisabled(true).build())).isNull();
        assertThat(s.programFor(LuaPerRoute.newBuilder().setName("named").build()).source.name())
                .isEqualTo("source_codes[named]");
        assertThat(s.programFor(LuaPerRoute.newBuilder().setName("unknown").build())).isNull();
        // a source_code entry is compiled when the route table is built, never on the data path
        assertThatThrownBy(() -> s.programFor(LuaPerRoute.newBuilder().setSourceCode(inline("z = 3")).build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("per-route source_code was not compiled at load (createRouteSpecificConfig)");
    }

    @Test
    void perRouteRelativeFilenameResolvesAgainstTheConfigDirectory() throws Exception {
        Files.writeString(dir.resolve("route.lua"), "function envoy_on_request(h) end\n");
        LuaPerRoute route = LuaPerRoute.newBuilder()
                .setSourceCode(DataSource.newBuilder().setFilename("route.lua")).build();
        Object compiled = new LuaFilterFactory().createRouteSpecificConfig(route, context.configDirectory(dir));
        assertThat(((LuaSettings.RouteScript) compiled).program().source.name())
                .isEqualTo(dir.resolve("route.lua").toAbsolutePath().normalize().toString());
    }

    @Test
    void programKnowsWhetherItMayWait() throws Exception {
        LuaSettings s = bind(Lua.newBuilder()
                .putSourceCodes("headers", inline("function envoy_on_request(h) h:headers():add('a', 'b') end"))
                .putSourceCodes("body", inline("function envoy_on_request(h) local b = h:body() end"))
                .putSourceCodes("call", inline("function envoy_on_request(h) h:httpCall('c', {}, nil, 0) end"))
                .build());
        LuaProgram headers = s.programFor(LuaPerRoute.newBuilder().setName("headers").build());
        LuaProgram body = s.programFor(LuaPerRoute.newBuilder().setName("body").build());
        LuaProgram call = s.programFor(LuaPerRoute.newBuilder().setName("call").build());
        assertThat(headers.usesBody || headers.usesHttpCall).isFalse();
        assertThat(body.usesBody).isTrue();
        assertThat(call.usesHttpCall).isTrue();
    }

    @Test
    void reloadServesTheNewVersionAndACompileErrorKeepsTheOldOne() throws Exception {
        Path file = dir.resolve("script.lua");
        Files.writeString(file, "version = 1");
        context.validateOnly(true); // no watcher thread: this test reloads by hand
        LuaSettings s = bind(Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setFilename(file.toString())).build());
        LuaProgram first = s.defaultProgram();

        Files.writeString(file, "version = = 2");
        assertThat(s.defaultScript().reload()).isFalse();
        assertThat(s.defaultProgram()).isSameAs(first);
        assertThat(context.statsStore().counter("lua.script_reload_errors")).isEqualTo(1);

        Files.writeString(file, "version = 3");
        assertThat(s.defaultScript().reload()).isTrue();
        assertThat(s.defaultProgram()).isNotSameAs(first);
        assertThat(s.defaultScript().current().version()).isEqualTo(2);
        assertThat(context.statsStore().counter("lua.script_reloads")).isEqualTo(1);
    }

    @Test
    void watcherPicksUpAnEditedFile() throws Exception {
        Path file = dir.resolve("watched.lua");
        Files.writeString(file, "version = 1");
        LuaSettings s = bind(Lua.newBuilder()
                .setDefaultSourceCode(DataSource.newBuilder().setFilename("watched.lua")).build());
        LuaProgram first = s.defaultProgram();
        Files.writeString(file, "version = 2 -- edited");
        for (int i = 0; i < 100 && s.defaultProgram() == first; i++) {
            Thread.sleep(50);
        }
        assertThat(s.defaultProgram()).isNotSameAs(first);
        assertThat(s.defaultProgram().source.text()).isEqualTo("version = 2 -- edited");
    }

    @Test
    void perRouteSourceCodeCompilesAtLoad() {
        LuaFilterFactory factory = new LuaFilterFactory();
        LuaPerRoute good = LuaPerRoute.newBuilder().setSourceCode(inline("function envoy_on_request(h) end")).build();
        Object compiled = factory.createRouteSpecificConfig(good, context);
        assertThat(compiled).isInstanceOf(LuaSettings.RouteScript.class);
        LuaSettings s = bind(Lua.newBuilder().setInlineCode("x = 1").build());
        assertThat(s.programFor(compiled)).isSameAs(((LuaSettings.RouteScript) compiled).program());
        LuaPerRoute named = LuaPerRoute.newBuilder().setName("n").build();
        assertThat(factory.createRouteSpecificConfig(named, context)).isSameAs(named);
        assertThatThrownBy(() -> factory.createRouteSpecificConfig(
                LuaPerRoute.newBuilder().setSourceCode(inline("\nfunction (")).build(), context))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("source_code: line 2: ");
    }

    @Test
    void unknownPerRouteNameIsWarnedOncePerName() {
        LuaSettings s = bind(Lua.newBuilder().setInlineCode("x = 1").build());
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LuaSettings.LOG;
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(s.programFor(LuaPerRoute.newBuilder().setName("missing").build())).isNull();
                assertThat(s.programFor(LuaPerRoute.newBuilder().setName("other").build())).isNull();
            }
        } finally {
            logger.detachAppender(appender);
        }
        assertThat(appender.list).extracting(e -> e.getLevel() + " " + e.getFormattedMessage()).containsExactly(
                "WARN per-route name missing is not in source_codes; the filter does nothing on its routes",
                "WARN per-route name other is not in source_codes; the filter does nothing on its routes");
    }
}
