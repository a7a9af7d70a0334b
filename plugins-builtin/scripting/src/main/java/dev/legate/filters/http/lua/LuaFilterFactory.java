package dev.legate.filters.http.lua;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import dev.legate.filters.http.scripting.ScriptHttpFilter;
import dev.legate.filters.http.scripting.ScriptLimits;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.Lua;
import io.envoyproxy.envoy.extensions.filters.http.lua.v3.LuaPerRoute;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.lua} ({@code type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua},
 * per route {@code ...lua.v3.LuaPerRoute}): Envoy's Lua filter, run by LuaJ. Stateless; {@link #create} compiles
 * the scripts into a {@link LuaSettings} and returns an installer that makes one
 * {@link ScriptHttpFilter} (driving a {@link LuaFilter}) per stream.
 */
@Extension
public final class LuaFilterFactory implements HttpFilterFactory<Lua> {

    /** The filter name in {@code http_filters}. */
    public static final String NAME = "envoy.filters.http.lua";

    private static final ConfigType<Lua> CONFIG_TYPE = ConfigType.proto(Lua.getDefaultInstance());
    private static final ConfigType<LuaPerRoute> PER_ROUTE_TYPE = ConfigType.proto(LuaPerRoute.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<Lua> configType() {
        return CONFIG_TYPE;
    }

    @Override
    public ConfigType<LuaPerRoute> perRouteConfigType() {
        return PER_ROUTE_TYPE;
    }

    /**
     * Compiles a {@code LuaPerRoute} with an inline {@code source_code} when the route table is built, so that a
     * script that does not compile stops start-up like any config error (Envoy's
     * {@code createRouteSpecificFilterConfig}); other entries are returned as bound.
     *
     * @throws dev.legate.api.ConfigException {@code source_code: line 1: ...} naming the line
     */
    @Override
    public Object createRouteSpecificConfig(Object config, FactoryContext context) {
        if (config instanceof LuaPerRoute perRoute
                && perRoute.getOverrideCase() == LuaPerRoute.OverrideCase.SOURCE_CODE) {
            return LuaSettings.compileRouteScript(perRoute, context.configDirectory(), ScriptLimits.DEFAULT);
        }
        return config;
    }

    /**
     * Compiles the config's scripts once per listener, on the main thread.
     *
     * @param context the HCM's context: {@code stats()} is {@code http.<stat_prefix>.}
     * @throws dev.legate.api.ConfigException for a script that does not compile or cannot be read, naming the
     *                                        field, file and line, e.g.
     *                                        {@code inline_code: line 3: '=' expected near 'end'}
     */
    @Override
    public HttpFilterInstaller create(Lua config, FactoryContext context) {
        LuaSettings settings = LuaSettings.from(config, context, ScriptLimits.DEFAULT);
        return callbacks -> new ScriptHttpFilter(settings.filterSettings(), new LuaFilter(settings, callbacks),
                callbacks);
    }
}
