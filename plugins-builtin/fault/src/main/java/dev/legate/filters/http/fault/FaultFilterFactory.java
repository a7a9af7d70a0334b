package dev.legate.filters.http.fault;

import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.concurrent.ThreadLocalRandom;
import org.pf4j.Extension;

/**
 * Registers {@code envoy.filters.http.fault}
 * ({@code type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}), also accepted as per-route
 * config in {@code typed_per_filter_config} (compiled at load by {@link #createRouteSpecificConfig}), where it replaces the filter's own config for that route (Envoy's
 * {@code FaultFilterFactory}, source/extensions/filters/http/fault/config.cc). Stateless; {@link #create} compiles
 * the config into {@link FaultSettings}, declares {@link FaultStats} under {@code http.<stat_prefix>.fault.} and
 * returns an installer that makes one {@link FaultFilter} per stream.
 */
@Extension
public final class FaultFilterFactory implements HttpFilterFactory<HTTPFault> {

    /** The filter name in {@code http_filters} and {@code typed_per_filter_config}. */
    public static final String NAME = "envoy.filters.http.fault";

    private static final ConfigType<HTTPFault> CONFIG_TYPE = ConfigType.proto(HTTPFault.getDefaultInstance());

    // HttpFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<HTTPFault> configType() {
        return CONFIG_TYPE;
    }

    /** The per-route config is an {@code HTTPFault} too. */
    @Override
    public ConfigType<HTTPFault> perRouteConfigType() {
        return CONFIG_TYPE;
    }

    /**
     * Binds the filter's config once per listener, on the main thread.
     *
     * @param context the HCM's context: {@code stats()} is {@code http.<stat_prefix>.}
     * @throws ConfigException naming the first field that breaks Envoy's rules, e.g.
     *                         {@code abort.http_status: 700 (expected: >= 200 and < 600)}
     */
    @Override
    public HttpFilterInstaller create(HTTPFault config, FactoryContext context) {
        FaultSettings settings = FaultSettings.from(config, NAME);
        FaultStats stats = new FaultStats(context.stats());
        // ThreadLocalRandom.current() is taken on the stream's event loop, where the filter runs.
        return callbacks -> new FaultFilter(settings, stats, ThreadLocalRandom.current(), callbacks);
    }

    /**
     * Compiles a route's {@code HTTPFault} into {@link FaultSettings} when the route table is built, so a bad one
     * stops start-up with its path, e.g.
     * {@code ...routes[0].typed_per_filter_config["envoy.filters.http.fault"].abort.http_status: 700 (expected: >= 200 and < 600)}.
     */
    @Override
    public FaultSettings createRouteSpecificConfig(Object config, FactoryContext context) {
        return FaultSettings.from((HTTPFault) config, NAME + " per-route config");
    }
}
