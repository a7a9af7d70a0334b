package dev.legate.host.http;

import dev.legate.api.Dispatcher;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.ClusterManager;
import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/**
 * One filter of one stream and the callbacks it was given (Envoy's {@code ActiveStreamDecoderFilter} and
 * {@code ActiveStreamEncoderFilter} in one). Confined to the stream's event loop.
 */
final class ActiveFilter implements HttpFilterCallbacks {

    final ActiveStream stream;
    final int index;
    final String name;
    final ActiveStream.FilterState decState = new ActiveStream.FilterState();
    final ActiveStream.FilterState encState = new ActiveStream.FilterState();
    HttpFilter filter;

    ActiveFilter(ActiveStream stream, int index, String name) {
        this.stream = stream;
        this.index = index;
        this.name = name;
    }

    // HttpFilterCallbacks: stream

    @Override
    public Dispatcher dispatcher() {
        return stream.dispatcher;
    }

    @Override
    public StreamInfo streamInfo() {
        return stream.info;
    }

    @Override
    public long connectionId() {
        return stream.connection.id();
    }

    @Override
    public HeaderMap requestHeaders() {
        return stream.requestHeaders;
    }

    @Override
    public Route route() {
        return stream.route();
    }

    @Override
    public void clearRouteCache() {
        stream.clearRouteCache();
    }

    @Override
    public <R> R perRouteConfig(Class<R> type) {
        Route r = stream.route();
        if (r == null) {
            return null;
        }
        Object o = r.perFilterConfig(name);
        return type.isInstance(o) ? type.cast(o) : null;
    }

    @Override
    public ClusterManager clusterManager() {
        return stream.connection.clusterManager();
    }

    @Override
    public HeaderMap newHeaderMap() {
        return new NettyHeaderMap();
    }

    @Override
    public int bufferLimit() {
        return stream.connection.bufferLimit();
    }

    // HttpFilterCallbacks: decoding

    @Override
    public void continueDecoding() {
        stream.commonContinue(stream.dec, this);
    }

    @Override
    public ByteBuf decodingBuffer() {
        return stream.dec.buffered;
    }

    @Override
    public void addDecodedData(ByteBuf data) {
        stream.addData(stream.dec, this, data);
    }

    @Override
    public void sendLocalReply(int status, String body, Consumer<HeaderMap> modifyHeaders, String details) {
        stream.sendLocalReply(status, body, modifyHeaders, details);
    }

    @Override
    public void encodeHeaders(HeaderMap headers, boolean endStream) {
        stream.encodeHeaders(headers, endStream);
    }

    @Override
    public void encodeData(ByteBuf data, boolean endStream) {
        stream.encodeData(data, endStream);
    }

    @Override
    public void encodeTrailers(HeaderMap trailers) {
        stream.encodeTrailers(trailers);
    }

    @Override
    public void resetStream() {
        stream.resetStream();
    }

    @Override
    public void onDecoderFilterAboveWriteBufferHighWatermark() {
        stream.readDisable(true);
    }

    @Override
    public void onDecoderFilterBelowWriteBufferLowWatermark() {
        stream.readDisable(false);
    }

    @Override
    public void addDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
        stream.addWatermarkCallbacks(callbacks);
    }

    @Override
    public void removeDownstreamWatermarkCallbacks(WatermarkCallbacks callbacks) {
        stream.removeWatermarkCallbacks(callbacks);
    }

    // HttpFilterCallbacks: encoding

    @Override
    public void continueEncoding() {
        stream.commonContinue(stream.enc, this);
    }

    @Override
    public ByteBuf encodingBuffer() {
        return stream.enc.buffered;
    }

    @Override
    public void addEncodedData(ByteBuf data) {
        stream.addData(stream.enc, this, data);
    }

    @Override
    public void injectEncodedDataToFilterChain(ByteBuf data, boolean endStream) {
        stream.injectData(stream.enc, this, data, endStream);
    }

    @Override
    public void onEncoderFilterAboveWriteBufferHighWatermark() {
        stream.fireWatermark(true);
    }

    @Override
    public void onEncoderFilterBelowWriteBufferLowWatermark() {
        stream.fireWatermark(false);
    }

    @Override
    public String toString() {
        return "ActiveFilter{" + name + "}";
    }
}
