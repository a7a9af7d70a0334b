package dev.legate.filters.network.mongoproxy;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy;
import java.util.concurrent.ThreadLocalRandom;
import org.pf4j.Extension;

/**
 * {@code envoy.filters.network.mongo_proxy} (Envoy's {@code MongoProxyFilterConfigFactory}): a non-terminal
 * network filter configured by {@code type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy},
 * placed before {@code envoy.filters.network.tcp_proxy}.
 *
 * <pre>{@code
 * filters:
 * - name: envoy.filters.network.mongo_proxy
 *   typed_config:
 *     "@type": type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy
 *     stat_prefix: mongo
 *     access_log: /var/log/legate/mongo.log
 * - name: envoy.filters.network.tcp_proxy
 *   typed_config:
 *     "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
 *     stat_prefix: mongo
 *     cluster: mongodb
 * }</pre>
 *
 * <p>Stateless: {@link #create} binds the config into {@link MongoProxySettings} once per listener and returns
 * an installer that makes one {@link MongoProxyFilter} per connection.
 */
@Extension
public final class MongoProxyFilterFactory implements NetworkFilterFactory<MongoProxy> {

    /** The filter name. */
    public static final String NAME = "envoy.filters.network.mongo_proxy";

    private static final ConfigType<MongoProxy> CONFIG_TYPE = ConfigType.proto(MongoProxy.getDefaultInstance());

    // NetworkFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<MongoProxy> configType() {
        return CONFIG_TYPE;
    }

    /**
     * @throws dev.legate.api.ConfigException naming the field of {@code config} that cannot be run
     */
    @Override
    public NetworkFilterInstaller create(MongoProxy config, FactoryContext context) {
        MongoProxySettings settings = MongoProxySettings.from(config, context);
        // the installer runs on the connection's event loop: ThreadLocalRandom.current() is that loop's
        return callbacks -> new MongoProxyFilter(settings, callbacks, ThreadLocalRandom.current());
    }
}
