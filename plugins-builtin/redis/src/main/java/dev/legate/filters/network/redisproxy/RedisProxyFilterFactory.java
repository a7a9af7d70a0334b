package dev.legate.filters.network.redisproxy;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.network.redis_proxy.v3.RedisProxy;
import org.pf4j.Extension;

/**
 * {@code envoy.filters.network.redis_proxy} (Envoy's {@code RedisProxy::ProxyFilterConfigFactory}): a
 * terminal network filter configured by
 * {@code type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy}.
 *
 * <pre>{@code
 * filters:
 * - name: envoy.filters.network.redis_proxy
 *   typed_config:
 *     "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
 *     stat_prefix: cache
 *     settings: {op_timeout: 5s}
 *     prefix_routes:
 *       catch_all_route: {cluster: redis}
 * }</pre>
 *
 * <p>Stateless: {@link #create} binds the config into {@link RedisProxySettings} once per listener, makes
 * the listener's {@link RedisConnPool} (closed with the listener) and returns an installer that makes one
 * {@link RedisProxyFilter} per connection.
 */
@Extension
public final class RedisProxyFilterFactory implements NetworkFilterFactory<RedisProxy> {

    /** The filter name. */
    public static final String NAME = "envoy.filters.network.redis_proxy";

    private static final ConfigType<RedisProxy> CONFIG_TYPE = ConfigType.proto(RedisProxy.getDefaultInstance());

    // NetworkFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<RedisProxy> configType() {
        return CONFIG_TYPE;
    }

    @Override
    public boolean isTerminal() {
        return true;
    }

    /**
     * @throws dev.legate.api.ConfigException naming the field of {@code config} that cannot be run
     */
    @Override
    public NetworkFilterInstaller create(RedisProxy config, FactoryContext context) {
        RedisProxySettings settings = RedisProxySettings.from(config, context);
        RedisConnPool pool = new RedisConnPool(settings);
        context.onClose(pool);
        return callbacks -> new RedisProxyFilter(settings, pool, callbacks);
    }
}
