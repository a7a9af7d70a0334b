package dev.legate.filters.http.fault;

import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.http.HttpFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers {@code envoy.filters.http.fault}
 * ({@code type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault}), also accepted as per-route
 * config in {@code typed_per_filter_config}, where it replaces the filter's own config for that route (Envoy's
 * {@code FaultFilterFactory}, source/extensions/filters/http/fault/config.cc). Stateless; {@link #create} compiles
 * the config into {@link FaultSettings}, declares {@link FaultStats} under {@code http.<stat_prefix>.fault.} and
 * returns an installer that makes one {@link FaultFilter} per stream.
 */
@Extension
public final class FaultFilterFactory implements HttpFilterFactory<HTTPFault> {

    /** The filter name in {@code http_filters} and {@code typed_per_filter_config}. */
    public static final String NAME = "envoy.filters.http.fault";

    private static final Logger logger = LoggerFactory.getLogger(FaultFilterFactory.class);
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
        Function<HTTPFault, FaultSettings> perRoute = new PerRouteSettings();
        // ThreadLocalRandom.current() is taken on the stream's event loop, where the filter runs.
        return callbacks -> new FaultFilter(settings, perRoute, stats, ThreadLocalRandom.current(), callbacks);
    }

    /**
     * Per-route {@code HTTPFault}s, compiled the first time a stream meets one and kept (keyed by the message,
     * whose hash is memoized). The host binds per-route configs as bare messages, so they are checked here: one
     * that breaks a rule is logged at ERROR once and injects no fault. Thread-safe.
     */
    static final class PerRouteSettings implements Function<HTTPFault, FaultSettings> {

        /** Settings that inject nothing, for a per-route config that cannot be run. */
        static final FaultSettings NONE = FaultSettings.from(HTTPFault.getDefaultInstance(), "");

        private final Map<HTTPFault, FaultSettings> compiled = new ConcurrentHashMap<>();

        @Override
        public FaultSettings apply(HTTPFault config) {
            FaultSettings s = compiled.get(config);
            return s != null ? s : compiled.computeIfAbsent(config, PerRouteSettings::compile);
        }

        private static FaultSettings compile(HTTPFault config) {
            try {
                return FaultSettings.from(config, NAME + " per-route config");
            } catch (ConfigException e) {
                logger.error("typed_per_filter_config[{}]: {}; this route's fault config injects no fault",
                        NAME, e.getMessage());
                return NONE;
            }
        }
    }
}
