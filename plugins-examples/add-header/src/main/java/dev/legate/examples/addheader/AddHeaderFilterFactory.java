package dev.legate.examples.addheader;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import org.pf4j.Extension;

/**
 * Registers the HTTP filter {@code legate.examples.add_header}. PF4J finds it through {@code @Extension}
 * (the build runs PF4J's annotation processor, which writes {@code META-INF/extensions.idx}); the host then
 * selects it by the {@code name} in an HTTP connection manager's {@code http_filters}.
 *
 * <p>Stateless, as every factory: {@link #create} runs once per listener on the main thread and returns an
 * installer that makes one {@link AddHeaderFilter} per HTTP stream.
 */
@Extension
public final class AddHeaderFilterFactory implements HttpFilterFactory<AddHeaderConfig> {

    /** The filter name used in {@code http_filters[].name}. */
    public static final String NAME = "legate.examples.add_header";

    /** {@code type.googleapis.com/legate.examples.AddHeader}, bound from {@code xds.type.v3.TypedStruct}. */
    public static final ConfigType<AddHeaderConfig> CONFIG_TYPE =
            ConfigType.record("legate.examples.AddHeader", AddHeaderConfig.class);

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<AddHeaderConfig> configType() {
        return CONFIG_TYPE;
    }

    /**
     * @throws dev.legate.api.ConfigException when {@code config} is invalid (the host validated it already;
     *         checking again costs nothing and protects direct callers such as tests)
     */
    @Override
    public HttpFilterInstaller create(AddHeaderConfig config, FactoryContext context) {
        config.validate();
        String header = config.header();
        String value = config.value();
        return callbacks -> new AddHeaderFilter(header, value);
    }
}
