package dev.legate.testkit;

import dev.legate.api.ResponseFlag;
import dev.legate.api.StateKey;
import dev.legate.api.StreamInfo;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A {@link StreamInfo} with a setter for everything, for filter tests. Defaults: remote
 * {@code 127.0.0.1:40000}, local {@code 127.0.0.1:10000}, protocol {@code HTTP/1.1}, start time now.
 * Not thread-safe, like the host's.
 */
public final class TestStreamInfo implements StreamInfo {

    private long startMillis = System.currentTimeMillis();
    private long startNanos = System.nanoTime();
    private String protocol = "HTTP/1.1";
    private InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
    private InetSocketAddress local = new InetSocketAddress("127.0.0.1", 10000);
    private int responseCode;
    private String details;
    private final EnumSet<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
    private long bytesReceived;
    private long bytesSent;
    private String upstreamHost;
    private String upstreamCluster;
    private String routeName;
    private final Map<StateKey<?>, Object> state = new HashMap<>();

    /** An HTTP/1.1 stream info. */
    public TestStreamInfo() {
    }

    /** An HTTP/1.1 stream info for a peer at {@code remoteIp:40000} (the default port). */
    public static TestStreamInfo from(String remoteIp) {
        return new TestStreamInfo().setDownstreamRemoteAddress(new InetSocketAddress(remoteIp, 40000));
    }

    /** An L4 connection's stream info: protocol {@code null}. */
    public static TestStreamInfo forConnection() {
        return new TestStreamInfo().setProtocol(null);
    }

    // StreamInfo

    @Override public long startTimeMillis() { return startMillis; }
    @Override public long startTimeNanos() { return startNanos; }
    @Override public String protocol() { return protocol; }
    @Override public InetSocketAddress downstreamRemoteAddress() { return remote; }
    @Override public InetSocketAddress downstreamLocalAddress() { return local; }
    @Override public int responseCode() { return responseCode; }
    @Override public String responseCodeDetails() { return details; }
    @Override public void setResponseCodeDetails(String details) { this.details = details; }
    @Override public Set<ResponseFlag> responseFlags() { return flags; }
    @Override public void setResponseFlag(ResponseFlag flag) { flags.add(flag); }
    @Override public long bytesReceived() { return bytesReceived; }
    @Override public long bytesSent() { return bytesSent; }
    @Override public String upstreamHost() { return upstreamHost; }
    @Override public void setUpstreamHost(String hostAddress) { this.upstreamHost = hostAddress; }
    @Override public String upstreamCluster() { return upstreamCluster; }
    @Override public void setUpstreamCluster(String clusterName) { this.upstreamCluster = clusterName; }
    @Override public String routeName() { return routeName; }

    @Override
    public <T> T state(StateKey<T> key) {
        return key.type().cast(state.get(key));
    }

    @Override
    public <T> void setState(StateKey<T> key, T value) {
        state.put(key, value);
    }

    // Test setters (each returns this)

    public TestStreamInfo setStartTimeMillis(long millis) { this.startMillis = millis; return this; }
    public TestStreamInfo setStartTimeNanos(long nanos) { this.startNanos = nanos; return this; }
    public TestStreamInfo setProtocol(String protocol) { this.protocol = protocol; return this; }
    public TestStreamInfo setDownstreamRemoteAddress(InetSocketAddress a) { this.remote = a; return this; }
    public TestStreamInfo setDownstreamLocalAddress(InetSocketAddress a) { this.local = a; return this; }
    public TestStreamInfo setResponseCode(int code) { this.responseCode = code; return this; }
    public TestStreamInfo addBytesReceived(long n) { this.bytesReceived += n; return this; }
    public TestStreamInfo addBytesSent(long n) { this.bytesSent += n; return this; }
    public TestStreamInfo setRouteName(String name) { this.routeName = name; return this; }

    @Override
    public String toString() {
        return "TestStreamInfo{code=" + responseCode + ", details=" + details + ", flags=" + flags
                + ", upstreamCluster=" + upstreamCluster + ", upstreamHost=" + upstreamHost
                + ", rx=" + bytesReceived + ", tx=" + bytesSent + '}';
    }
}
