package dev.legate.host.http;

import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.host.listener.ConnectionPipelineInstaller;
import dev.legate.host.listener.DownstreamConnection;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2FrameLogger;

/**
 * Puts the HTTP codec at the end of a connection's pipeline by {@code codec_type}: {@code HTTP1} the HTTP/1.1
 * server codec and {@link Http1ConnectionHandler}; {@code HTTP2} the HTTP/2 codec ({@link Http2ServerConnection});
 * {@code AUTO} an {@link Http2PrefaceSniffer} that picks one of them from the first bytes.
 * Shared by every event loop: holds only the immutable config and the (thread-safe) stats.
 */
final class HttpConnectionManagerInstaller implements ConnectionPipelineInstaller {

    /** Netty counts ": " and CRLF per header line; Envoy counts names plus values. */
    private static final int PER_HEADER_OVERHEAD = 4;

    private final HttpConnectionManagerConfig config;
    private final ConnectionManagerStats stats;
    private final HttpDecoderConfig decoderConfig;
    private final Http2CodecStats h2stats;
    private final Http2FrameLogger frameLogger;

    HttpConnectionManagerInstaller(HttpConnectionManagerConfig config, ConnectionManagerStats stats,
                                   Http2CodecStats h2stats) {
        this.config = config;
        this.stats = stats;
        this.h2stats = h2stats;
        this.frameLogger = new Http2ServerConnection.CountingFrameLogger(h2stats);
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
        switch (config.codecType()) {
            case HTTP1 -> installHttp1(connection);
            case HTTP2 -> installHttp2(connection);
            default -> p.addLast("legate-http-sniffer", new Http2PrefaceSniffer(this, connection));
        }
    }

    /** The HTTP/1.1 codec and connection handler, at the end of the pipeline. */
    void installHttp1(DownstreamConnection connection) {
        ChannelPipeline p = connection.channel().pipeline();
        p.addLast("legate-http-codec", new HttpServerCodec(decoderConfig.clone()));
        p.addLast("legate-http-connection-manager", new Http1ConnectionHandler(connection, config, stats));
    }

    /** The HTTP/2 codec, stream multiplexer and connection handler, at the end of the pipeline. */
    void installHttp2(DownstreamConnection connection) {
        Http2ServerConnection.install(connection, config, stats, h2stats, frameLogger);
    }
}
