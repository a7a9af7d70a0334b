package dev.legate.host.http;

import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.host.listener.ConnectionPipelineInstaller;
import dev.legate.host.listener.DownstreamConnection;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * Puts the HTTP/1.1 server codec and {@link Http1ConnectionHandler} at the end of a connection's pipeline.
 * Shared by every event loop: holds only the immutable config and the (thread-safe) stats.
 */
final class HttpConnectionManagerInstaller implements ConnectionPipelineInstaller {

    /** Netty counts ": " and CRLF per header line; Envoy counts names plus values. */
    private static final int PER_HEADER_OVERHEAD = 4;

    private final HttpConnectionManagerConfig config;
    private final ConnectionManagerStats stats;
    private final HttpDecoderConfig decoderConfig;

    HttpConnectionManagerInstaller(HttpConnectionManagerConfig config, ConnectionManagerStats stats) {
        this.config = config;
        this.stats = stats;
        int maxHeaders = Math.max(1, config.maxRequestHeadersBytes());
        int slack = PER_HEADER_OVERHEAD * Math.max(1, config.maxHeadersCount() + 2);
        this.decoderConfig = new HttpDecoderConfig()
                .setMaxInitialLineLength(maxHeaders)
                .setMaxHeaderSize(maxHeaders + slack)
                .setMaxChunkSize(16 * 1024)
                .setHeadersFactory(LowerCaseHeadersFactory.HEADERS)
                .setTrailersFactory(LowerCaseHeadersFactory.TRAILERS);
    }

    HttpConnectionManagerConfig config() {
        return config;
    }

    ConnectionManagerStats stats() {
        return stats;
    }

    // ConnectionPipelineInstaller

    @Override
    public void install(DownstreamConnection connection) {
        ChannelPipeline p = connection.channel().pipeline();
        p.addLast("legate-http-bytes", new ByteCountingHandler(stats));
        p.addLast("legate-http-codec", new HttpServerCodec(decoderConfig.clone()));
        p.addLast("legate-http-connection-manager", new Http1ConnectionHandler(connection, config, stats));
    }
}
