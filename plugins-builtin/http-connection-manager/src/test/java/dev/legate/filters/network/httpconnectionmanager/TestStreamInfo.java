package dev.legate.filters.network.httpconnectionmanager;

import dev.legate.api.ResponseFlag;
import dev.legate.api.StateKey;
import dev.legate.api.StreamInfo;
import java.net.InetSocketAddress;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** A plain {@link StreamInfo} for tests. */
public final class TestStreamInfo implements StreamInfo {

    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final Set<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);
    private final Map<StateKey<?>, Object> state = new HashMap<>();
    private String details;
    private String upstreamHost;
    private String upstreamCluster;

    public TestStreamInfo(String remoteIp, int remotePort, String localIp, int localPort) {
        this.remote = new InetSocketAddress(remoteIp, remotePort);
        this.local = new InetSocketAddress(localIp, localPort);
    }

    /** A peer at {@code remoteIp:40000} on listener {@code 127.0.0.1:10000}. */
    public static TestStreamInfo from(String remoteIp) {
        return new TestStreamInfo(remoteIp, 40000, "127.0.0.1", 10000);
    }

    @Override
    public long startTimeMillis() {
        return 0;
    }

    @Override
    public long startTimeNanos() {
        return 0;
    }

    @Override
    public String protocol() {
        return "HTTP/1.1";
    }

    @Override
    public InetSocketAddress downstreamRemoteAddress() {
        return remote;
    }

    @Override
    public InetSocketAddress downstreamLocalAddress() {
        return local;
    }

    @Override
    public int responseCode() {
        return 0;
    }

    @Override
    public String responseCodeDetails() {
        return details;
    }

    @Override
    public void setResponseCodeDetails(String details) {
        this.details = details;
    }

    @Override
    public Set<ResponseFlag> responseFlags() {
        return flags;
    }

    @Override
    public void setResponseFlag(ResponseFlag flag) {
        flags.add(flag);
    }

    @Override
    public long bytesReceived() {
        return 0;
    }

    @Override
    public long bytesSent() {
        return 0;
    }

    @Override
    public String upstreamHost() {
        return upstreamHost;
    }

    @Override
    public void setUpstreamHost(String hostAddress) {
        this.upstreamHost = hostAddress;
    }

    @Override
    public String upstreamCluster() {
        return upstreamCluster;
    }

    @Override
    public void setUpstreamCluster(String clusterName) {
        this.upstreamCluster = clusterName;
    }

    @Override
    public String routeName() {
        return null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T state(StateKey<T> key) {
        return (T) state.get(key);
    }

    @Override
    public <T> void setState(StateKey<T> key, T value) {
        state.put(key, value);
    }
}
