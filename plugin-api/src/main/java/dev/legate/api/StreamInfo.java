package dev.legate.api;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * What the host records about one downstream connection (L4) or one stream (HTTP), for access logs,
 * stats and other filters (Envoy's {@code StreamInfo}). Confined to the connection's event loop; read it,
 * do not keep it past the stream.
 */
public interface StreamInfo {

    /** Start of the stream or connection, milliseconds since the epoch. */
    long startTimeMillis();

    /** Start of the stream, from {@link System#nanoTime()}; durations are measured from here. */
    long startTimeNanos();

    /** {@code HTTP/1.0}, {@code HTTP/1.1}, {@code HTTP/2}, or {@code null} for L4. */
    String protocol();

    /** The downstream peer. */
    InetSocketAddress downstreamRemoteAddress();

    /** The local address the downstream connection arrived on. */
    InetSocketAddress downstreamLocalAddress();

    /** The HTTP status sent downstream, or 0 when none was sent. */
    int responseCode();

    /** Why the host answered as it did (Envoy's response code details), e.g. {@code via_upstream}. */
    String responseCodeDetails();

    void setResponseCodeDetails(String details);

    /** Flags set so far; a live view. */
    Set<ResponseFlag> responseFlags();

    void setResponseFlag(ResponseFlag flag);

    /** Body bytes received from downstream. */
    long bytesReceived();

    /** Body bytes sent downstream. */
    long bytesSent();

    /** The upstream host, {@code ip:port}, once one was chosen; otherwise {@code null}. */
    String upstreamHost();

    void setUpstreamHost(String hostAddress);

    /** The upstream cluster's name once routed; otherwise {@code null}. */
    String upstreamCluster();

    void setUpstreamCluster(String clusterName);

    /** The matched route's {@code name}, or {@code null}. */
    String routeName();

    /** Filter state: a value another filter of this stream or connection stored under {@code key}. */
    <T> T state(StateKey<T> key);

    <T> void setState(StateKey<T> key, T value);
}
