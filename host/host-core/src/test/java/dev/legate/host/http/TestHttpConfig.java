package dev.legate.host.http;

import dev.legate.api.StreamInfo;
import dev.legate.api.http.CodecType;
import dev.legate.api.http.Http2Options;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.http.Route;
import dev.legate.api.stats.Stats;
import dev.legate.host.stats.StatsStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** An HCM config for tests: settings in public fields, a real stats store, and a log of finished streams. */
final class TestHttpConfig implements HttpConnectionManagerConfig {

    /** What {@code onStreamComplete} saw. */
    record Completed(int status, String details, String flags, HeaderMap requestHeaders, long bytesReceived,
                     long bytesSent) {
    }

    final StatsStore store = new StatsStore();
    final Stats stats = store.root().scope("http.test.");
    final List<Completed> completed = new ArrayList<>();
    /** {@code StreamInfo.protocol()} of each finished stream (%PROTOCOL%). */
    final List<String> protocols = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<HttpFilterChainEntry> chain = List.of();
    int maxRequestHeadersBytes = 60 * 1024;
    int maxHeadersCount = 100;
    long streamIdleTimeoutMillis = 300_000;
    long requestTimeoutMillis;
    long connectionIdleTimeoutMillis = 3_600_000;
    boolean proxy100Continue;
    Route route;
    CodecType codecType = CodecType.AUTO;
    Http2Options http2Options = Http2Options.DEFAULTS;
    long drainTimeoutMillis = 5000;
    int routeLookups;
    Map<String, Boolean> upgradeConfigs = Map.of();

    long counter(String name) {
        return store.counter("http.test." + name);
    }

    long gauge(String name) {
        return store.gauge("http.test." + name);
    }

    @Override public Stats stats() { return stats; }
    @Override public CodecType codecType() { return codecType; }
    @Override public Http2Options http2Options() { return http2Options; }
    @Override public long drainTimeoutMillis() { return drainTimeoutMillis; }
    @Override public int maxRequestHeadersBytes() { return maxRequestHeadersBytes; }
    @Override public int maxHeadersCount() { return maxHeadersCount; }
    @Override public long streamIdleTimeoutMillis() { return streamIdleTimeoutMillis; }
    @Override public long requestTimeoutMillis() { return requestTimeoutMillis; }
    @Override public long connectionIdleTimeoutMillis() { return connectionIdleTimeoutMillis; }
    @Override public boolean proxy100Continue() { return proxy100Continue; }
    @Override public List<HttpFilterChainEntry> filterChain() { return chain; }
    @Override public Map<String, Boolean> upgradeConfigs() { return upgradeConfigs; }
    @Override
    public Route route(HeaderMap requestHeaders, StreamInfo streamInfo) {
        routeLookups++;
        return route;
    }

    @Override
    public void mutateRequestHeaders(HeaderMap requestHeaders, StreamInfo streamInfo) {
        requestHeaders.set("x-request-id", "rid-1");
    }

    @Override
    public void mutateResponseHeaders(HeaderMap responseHeaders, HeaderMap requestHeaders, StreamInfo streamInfo) {
        responseHeaders.set("server", "legate");
    }

    @Override
    public void onStreamComplete(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                                 StreamInfo streamInfo) {
        protocols.add(String.valueOf(streamInfo.protocol()));
        StringBuilder flags = new StringBuilder();
        streamInfo.responseFlags().forEach(f -> flags.append(flags.isEmpty() ? "" : ",").append(f.code()));
        completed.add(new Completed(streamInfo.responseCode(), streamInfo.responseCodeDetails(),
                flags.isEmpty() ? "-" : flags.toString(), requestHeaders, streamInfo.bytesReceived(),
                streamInfo.bytesSent()));
    }
}
