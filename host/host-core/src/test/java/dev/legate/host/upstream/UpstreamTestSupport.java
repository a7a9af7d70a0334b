package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/** YAML clusters and a ByteBuf leak watch for the upstream tests. */
final class UpstreamTestSupport {

    private static final List<String> LEAKS = new ArrayList<>();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try {
            Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ((ResourceLeakDetector<?>) f.get(null)).setLeakListener((type, records) -> {
                synchronized (LEAKS) {
                    LEAKS.add("LEAK: " + type + records);
                }
            });
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private UpstreamTestSupport() {
    }

    /** A Cluster from YAML, the way a user writes it under static_resources.clusters. */
    static Cluster cluster(String yaml) {
        try {
            String json = new ObjectMapper().writeValueAsString(new ObjectMapper(new YAMLFactory()).readTree(yaml));
            Cluster.Builder b = Cluster.newBuilder();
            JsonFormat.parser().usingTypeRegistry(com.google.protobuf.TypeRegistry.newBuilder()
                    .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
                    .build()).merge(json, b);
            return b.build();
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Collects garbage and fails when Netty reported a ByteBuf that was never released. */
    static void assertNoLeaks() throws InterruptedException {
        for (int round = 0; round < 4; round++) {
            System.gc();
            Thread.sleep(20);
            for (int i = 0; i < 64; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
                ByteBuf h = PooledByteBufAllocator.DEFAULT.heapBuffer(16);
                h.release();
            }
        }
        synchronized (LEAKS) {
            List<String> found = new ArrayList<>(LEAKS);
            LEAKS.clear();
            assertThat(found).as("ByteBuf leaks").isEmpty();
        }
    }
}
