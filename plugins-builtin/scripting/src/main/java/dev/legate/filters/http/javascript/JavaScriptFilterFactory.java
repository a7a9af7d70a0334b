package dev.legate.filters.http.javascript;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.filters.http.javascript.v1.JavaScript;
import dev.legate.filters.http.javascript.v1.JavaScriptPerRoute;
import dev.legate.filters.http.scripting.ReloadableScript;
import dev.legate.filters.http.scripting.ScriptSource;
import dev.legate.filters.http.scripting.ScriptHttpFilter;
import org.pf4j.Extension;

/**
 * Registers {@code legate.filters.http.javascript}
 * ({@code type.googleapis.com/legate.extensions.filters.http.javascript.v1.JavaScript}, per route
 * {@code ...v1.JavaScriptPerRoute}): an HTTP filter written in JavaScript with Envoy's Lua handle API, run by
 * GraalVM polyglot. Stateless; {@link #create} compiles the scripts into a {@link JavaScriptSettings} and returns
 * an installer that makes one engine-neutral {@link ScriptHttpFilter} per stream, driving a {@link JsInvocation}
 * per direction.
 */
@Extension
public final class JavaScriptFilterFactory implements HttpFilterFactory<JavaScript> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "legate.filters.http.javascript";

    private static final ConfigType<JavaScript> CONFIG_TYPE = ConfigType.proto(JavaScript.getDefaultInstance());
    private static final ConfigType<JavaScriptPerRoute> PER_ROUTE_TYPE =
            ConfigType.proto(JavaScriptPerRoute.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<JavaScript> configType() {
        return CONFIG_TYPE;
    }

    @Override
    public ConfigType<?> perRouteConfigType() {
        return PER_ROUTE_TYPE;
    }

    /**
     * Compiles a {@code JavaScriptPerRoute} with an inline or file {@code source_code} when the route table is
     * built, on the main thread, into an immutable {@link JavaScriptSettings.RouteScript} that streams use as is
     * (Envoy's {@code createRouteSpecificFilterConfig}): a script that does not parse or a file that cannot be read
     * stops start-up like any config error, and nothing is compiled on the data path. A relative {@code filename}
     * resolves against the config file's directory. A per-route file is read once (not watched). Other entries
     * are returned as bound.
     *
     * @throws dev.legate.api.ConfigException {@code source_code: line 1: SyntaxError: ...} naming the line, or
     *                                        {@code source_code.filename: /x/route.js (cannot read: ...)}
     */
    @Override
    public Object createRouteSpecificConfig(Object config, FactoryContext context) {
        if (config instanceof JavaScriptPerRoute route
                && route.getOverrideCase() == JavaScriptPerRoute.OverrideCase.SOURCE_CODE) {
            ScriptSource source = ScriptSource.load(route.getSourceCode(), context.configDirectory(), "source_code");
            return new JavaScriptSettings.RouteScript(route,
                    ReloadableScript.fixed(source, new JsCompiler(JsRuntime.get())));
        }
        return config;
    }

    /**
     * Compiles the config's scripts once per listener, on the main thread (the first JavaScript filter of the
     * process also builds the GraalVM engine, 0.2–1 s, and logs which runtime runs).
     *
     * @param context the HCM's context: stats go under {@code http.<stat_prefix>.javascript.}
     * @throws dev.legate.api.ConfigException for a script that does not compile
     *                                        ({@code default_source_code: line 3: SyntaxError: ...}), an unreadable
     *                                        file, or a bad {@code call_timeout}/{@code failure_mode}
     */
    @Override
    public HttpFilterInstaller create(JavaScript config, FactoryContext context) {
        JavaScriptSettings settings = JavaScriptSettings.from(config, context);
        return callbacks -> new ScriptHttpFilter(settings.filterSettings(), settings, callbacks);
    }
}
