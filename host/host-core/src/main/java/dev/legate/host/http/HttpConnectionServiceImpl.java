package dev.legate.host.http;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.http.CodecType;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.host.listener.ConnectionPipelineInstaller;

/**
 * The host's HTTP service (Envoy's {@code source/common/http}): for each HTTP connection manager config it
 * returns a {@link ConnectionPipelineInstaller} that puts Netty's HTTP/1.1 server codec and the host's
 * stream state machine on a connection. Stateless and thread-safe; one instance serves the process.
 */
public final class HttpConnectionServiceImpl implements HttpConnectionService {

    public HttpConnectionServiceImpl() {
    }

    // HttpConnectionService

    /**
     * Binds {@code config} (on the main thread): looks the {@code http.<stat_prefix>.} meters up once.
     * {@code codec_type} {@code AUTO} and {@code HTTP1} both speak HTTP/1.1 (no HTTP/2 codec yet).
     *
     * @return a {@link ConnectionPipelineInstaller}; its {@code install} runs on each connection's loop
     * @throws ConfigException {@code codec_type: HTTP2 ...} until the host has an HTTP/2 codec
     */
    @Override
    public ConnectionPipelineInstaller connectionManager(HttpConnectionManagerConfig config) {
        requireNonNull(config, "config");
        if (config.codecType() == CodecType.HTTP2) {
            throw ConfigException.at("codec_type", "HTTP2 (expected: AUTO or HTTP1; HTTP/2 is not supported yet)");
        }
        return new HttpConnectionManagerInstaller(config, new ConnectionManagerStats(config.stats()));
    }
}
