package dev.legate.host.http;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpConnectionService;
import dev.legate.api.stats.Stats;
import dev.legate.host.listener.ConnectionPipelineInstaller;

/**
 * The host's HTTP service (Envoy's {@code source/common/http}): for each HTTP connection manager config it
 * returns a {@link ConnectionPipelineInstaller} that puts Netty's HTTP/1.1 or HTTP/2 server codec and the
 * host's stream state machine on a connection. Stateless and thread-safe; one instance serves the process.
 */
public final class HttpConnectionServiceImpl implements HttpConnectionService {

    private final Stats root;

    /** A service whose HTTP/2 codec stats go under each config's own scope (tests). */
    public HttpConnectionServiceImpl() {
        this(null);
    }

    /**
     * @param root the process's root stats scope: the downstream HTTP/2 codec stats are rooted at
     *             {@code http2.} in it, as in Envoy; {@code null} puts them under each config's scope
     */
    public HttpConnectionServiceImpl(Stats root) {
        this.root = root;
    }

    // HttpConnectionService

    /**
     * Binds {@code config} (on the main thread): looks the {@code http.<stat_prefix>.} and {@code http2.} meters
     * up once. {@code codec_type} {@code HTTP1} speaks HTTP/1.1, {@code HTTP2} HTTP/2 with prior knowledge (h2c),
     * {@code AUTO} sniffs the HTTP/2 connection preface on each connection.
     *
     * @return a {@link ConnectionPipelineInstaller}; its {@code install} runs on each connection's loop
     */
    @Override
    public ConnectionPipelineInstaller connectionManager(HttpConnectionManagerConfig config) {
        requireNonNull(config, "config");
        Stats h2 = (root != null ? root : config.stats()).scope("http2.");
        return new HttpConnectionManagerInstaller(config, new ConnectionManagerStats(config.stats()),
                new Http2CodecStats(h2));
    }
}
