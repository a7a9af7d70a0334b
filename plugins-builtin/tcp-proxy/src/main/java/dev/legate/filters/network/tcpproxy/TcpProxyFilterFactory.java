package dev.legate.filters.network.tcpproxy;

import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import org.pf4j.Extension;

/**
 * {@code envoy.filters.network.tcp_proxy} (Envoy's {@code TcpProxy::ConfigFactory}): a terminal network
 * filter configured by {@code type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}.
 *
 * <pre>{@code
 * filters:
 * - name: envoy.filters.network.tcp_proxy
 *   typed_config:
 *     "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
 *     stat_prefix: db
 *     cluster: postgres
 *     idle_timeout: 600s
 * }</pre>
 *
 * <p>Stateless: {@link #create} binds the config into {@link TcpProxySettings} once per listener and
 * returns an installer that makes one {@link TcpProxyFilter} per connection.
 */
@Extension
public final class TcpProxyFilterFactory implements NetworkFilterFactory<TcpProxy> {

    /** The filter name. */
    public static final String NAME = "envoy.filters.network.tcp_proxy";

    private static final ConfigType<TcpProxy> CONFIG_TYPE = ConfigType.proto(TcpProxy.getDefaultInstance());

    // NetworkFilterFactory

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<TcpProxy> configType() {
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
    public NetworkFilterInstaller create(TcpProxy config, FactoryContext context) {
        TcpProxySettings settings = TcpProxySettings.from(config, context);
        return callbacks -> new TcpProxyFilter(settings, callbacks);
    }
}
