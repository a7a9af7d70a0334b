package dev.legate.filters.http.grpc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.RetryPolicy;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Test helpers shared by the three filters' tests: YAML → config proto, a route to a cluster, gRPC frames. */
public final class GrpcTestSupport {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private GrpcTestSupport() {
    }

    /** Parses {@code yaml} into {@code builder}'s message as the host does (YAML → JSON → JsonFormat). */
    @SuppressWarnings("unchecked")
    public static <M extends Message> M yaml(String yaml, Message.Builder builder) {
        try {
            if (!yaml.isBlank()) {
                JsonFormat.parser().merge(JSON.writeValueAsString(YAML.readTree(yaml)), builder);
            }
            return (M) builder.build();
        } catch (Exception e) {
            throw new AssertionError("bad test YAML: " + e.getMessage(), e);
        }
    }

    /** A route forwarding to {@code cluster}. */
    public static Route routeTo(String cluster) {
        RouteEntry entry = new RouteEntry() {
            @Override public String clusterName() { return cluster; }
            @Override public int clusterNotFoundResponseCode() { return 503; }
            @Override public long timeoutMillis() { return 15000; }
            @Override public long idleTimeoutMillis() { return -1; }
            @Override public RetryPolicy retryPolicy() { return RetryPolicy.NONE; }
            @Override public boolean autoHostRewrite() { return false; }
            @Override public void finalizeRequestHeaders(HeaderMap headers, StreamInfo streamInfo) { }
            @Override public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) { }
        };
        return new Route() {
            @Override public String name() { return ""; }
            @Override public io.envoyproxy.envoy.config.route.v3.Route config() {
                return io.envoyproxy.envoy.config.route.v3.Route.getDefaultInstance();
            }
            @Override public VirtualHost virtualHost() { return VirtualHost.getDefaultInstance(); }
            @Override public RouteEntry routeEntry() { return entry; }
            @Override public DirectResponseEntry directResponseEntry() { return null; }
            @Override public Object perFilterConfig(String filterName) { return null; }
        };
    }

    /** One gRPC frame: flags 0, the length, {@code message}. */
    public static byte[] frame(byte[] message) {
        return frame(0, message);
    }

    public static byte[] frame(int flags, byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(flags);
        out.write(message.length >>> 24);
        out.write(message.length >>> 16);
        out.write(message.length >>> 8);
        out.write(message.length);
        out.writeBytes(message);
        return out.toByteArray();
    }

    public static byte[] frame(String message) {
        return frame(message.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A leak-tracked copy of {@code bytes[from, to)}. */
    public static ByteBuf buf(byte[] bytes, int from, int to) {
        return Unpooled.directBuffer(Math.max(1, to - from)).writeBytes(bytes, from, to - from);
    }

    public static ByteBuf buf(byte[] bytes) {
        return buf(bytes, 0, bytes.length);
    }

    public static ByteBuf buf(String s) {
        return buf(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** The harness records bodies as UTF-8 strings; this gives their bytes back when they were ISO-8859-1. */
    public static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
