package dev.legate.host.stream;

import dev.legate.api.ResponseFlag;
import dev.legate.api.StateKey;
import dev.legate.api.StreamInfo;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** The host's {@link StreamInfo}: one per HTTP stream or L4 connection, confined to its event loop. */
public final class StreamInfoImpl implements StreamInfo {

    private final long startMillis = System.currentTimeMillis();
    private final long startNanos = System.nanoTime();
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final EnumSet<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
    private String protocol;
    private int responseCode;
    private String details;
    private long bytesReceived;
    private long bytesSent;
    private String upstreamHost;
    private String upstreamCluster;
    private String routeName;
    private Map<StateKey<?>, Object> state;

    public StreamInfoImpl(InetSocketAddress remote, InetSocketAddress local, String protocol) {
        this.remote = remote;
        this.local = local;
        this.protocol = protocol;
    }

    @Override public long startTimeMillis() { return startMillis; }
    @Override public long startTimeNanos() { return startNanos; }
    @Override public String protocol() { return protocol; }
    public void setProtocol(String protocol) { this.protocol = protocol; }
    @Override public InetSocketAddress downstreamRemoteAddress() { return remote; }
    @Override public InetSocketAddress downstreamLocalAddress() { return local; }
    @Override public int responseCode() { return responseCode; }
    public void setResponseCode(int code) { this.responseCode = code; }
    @Override public String responseCodeDetails() { return details; }
    @Override public void setResponseCodeDetails(String details) { this.details = details; }
    @Override public Set<ResponseFlag> responseFlags() { return flags; }
    @Override public void setResponseFlag(ResponseFlag flag) { flags.add(flag); }
    @Override public long bytesReceived() { return bytesReceived; }
    public void addBytesReceived(long n) { bytesReceived += n; }
    @Override public long bytesSent() { return bytesSent; }
    public void addBytesSent(long n) { bytesSent += n; }
    @Override public String upstreamHost() { return upstreamHost; }
    @Override public void setUpstreamHost(String host) { this.upstreamHost = host; }
    @Override public String upstreamCluster() { return upstreamCluster; }
    @Override public void setUpstreamCluster(String cluster) { this.upstreamCluster = cluster; }
    @Override public String routeName() { return routeName; }
    public void setRouteName(String name) { this.routeName = name; }

    /** Milliseconds since the start of the stream. */
    public long durationMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    @Override
    public <T> T state(StateKey<T> key) {
        return state == null ? null : key.type().cast(state.get(key));
    }

    @Override
    public <T> void setState(StateKey<T> key, T value) {
        if (state == null) {
            state = new HashMap<>(4);
        }
        state.put(key, value);
    }
}
