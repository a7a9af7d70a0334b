package dev.legate.filters.network.tcpproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.BackoffStrategy;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight;
import io.envoyproxy.envoy.type.v3.HashPolicy;
import dev.legate.testkit.TestFactoryContext;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Config tier: {@code TcpProxy} → {@link TcpProxySettings}, and each error message. */
class TcpProxyFilterFactoryTest {

    private final TestFactoryContext context = new TestFactoryContext();
    private final TcpProxyFilterFactory factory = new TcpProxyFilterFactory();

    private static TcpProxy.Builder minimal() {
        return TcpProxy.newBuilder().setStatPrefix("ingress").setCluster("backend");
    }

    private TcpProxySettings bind(TcpProxy config) {
        return TcpProxySettings.from(config, context);
    }

    @Test
    void nameTypeAndTerminal() {
        assertThat(factory.name()).isEqualTo("envoy.filters.network.tcp_proxy");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
        assertThat(factory.isTerminal()).isTrue();
    }

    @Test
    void defaults() {
        TcpProxySettings s = bind(minimal().build());
        assertThat(s.statPrefix()).isEqualTo("ingress");
        assertThat(s.clusterNames()).containsExactly("backend");
        assertThat(s.idleTimeoutMillis()).isEqualTo(3_600_000);
        assertThat(s.maxConnectAttempts()).isEqualTo(1);
        assertThat(s.pickCluster()).isEqualTo("backend");
    }

    @Test
    void unknownClusterIsAcceptedAtLoad() {
        assertThat(factory.create(minimal().setCluster("nowhere").build(), context)).isNotNull();
    }

    @Test
    void idleTimeoutAndAttempts() {
        TcpProxySettings s = bind(minimal().setIdleTimeout(Duration.newBuilder().setSeconds(2).setNanos(500_000_000))
                .setMaxConnectAttempts(UInt32Value.of(3)).build());
        assertThat(s.idleTimeoutMillis()).isEqualTo(2_500);
        assertThat(s.maxConnectAttempts()).isEqualTo(3);
        assertThat(bind(minimal().setIdleTimeout(Duration.getDefaultInstance()).build()).idleTimeoutMillis()).isZero();
    }

    @Test
    void accessLogIsBuiltByTheHostUnderItsPath() {
        AccessLog log = AccessLog.newBuilder().setName("envoy.access_loggers.stdout").build();
        bind(minimal().addAccessLog(log).build());
        assertThat(context.accessLogRequests()).singleElement().satisfies(r -> {
            assertThat(r.path()).isEqualTo("access_log");
            assertThat(r.accessLogs()).containsExactly(log);
        });
    }

    @Test
    void weightedClustersPickByWeight() {
        TcpProxySettings s = bind(TcpProxy.newBuilder().setStatPrefix("w").setWeightedClusters(WeightedCluster.newBuilder()
                .addClusters(ClusterWeight.newBuilder().setName("a").setWeight(1))
                .addClusters(ClusterWeight.newBuilder().setName("b").setWeight(3))).build());
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 20_000; i++) {
            counts.merge(s.pickCluster(), 1, Integer::sum);
        }
        assertThat(counts.keySet()).containsExactlyInAnyOrder("a", "b");
        assertThat(counts.get("b") / (double) counts.get("a")).isBetween(2.5, 3.5);
    }

    @Test
    void errorsNameTheField() {
        assertError(TcpProxy.newBuilder().setCluster("x"), "stat_prefix: \"\" (expected: a non-empty string)");
        assertError(TcpProxy.newBuilder().setStatPrefix("p"),
                "cluster_specifier: not set (expected: cluster or weighted_clusters)");
        assertError(minimal().setCluster(""), "cluster: \"\" (expected: a non-empty cluster name)");
        assertError(minimal().setWeightedClusters(WeightedCluster.getDefaultInstance()),
                "weighted_clusters.clusters: [] (expected: at least one cluster)");
        assertError(minimal().setWeightedClusters(WeightedCluster.newBuilder()
                        .addClusters(ClusterWeight.newBuilder().setName("a").setWeight(1))
                        .addClusters(ClusterWeight.newBuilder().setName("b").setWeight(0))),
                "weighted_clusters.clusters[1].weight: 0 (expected: >= 1)");
        assertError(minimal().setWeightedClusters(WeightedCluster.newBuilder()
                        .addClusters(ClusterWeight.newBuilder().setWeight(1))),
                "weighted_clusters.clusters[0].name: \"\" (expected: a non-empty cluster name)");
        assertError(minimal().setWeightedClusters(WeightedCluster.newBuilder()
                        .addClusters(ClusterWeight.newBuilder().setName("a").setWeight(1)
                                .setMetadataMatch(Metadata.getDefaultInstance()))),
                "weighted_clusters.clusters[0].metadata_match: not supported yet");
        assertError(minimal().setMaxConnectAttempts(UInt32Value.of(0)), "max_connect_attempts: 0 (expected: >= 1)");
        assertError(minimal().setIdleTimeout(Duration.newBuilder().setSeconds(-1)),
                "idle_timeout: -1s 0ns (expected: >= 0s)");
    }

    @Test
    void behaviourChangingFieldsAreRejected() {
        assertError(minimal().setTunnelingConfig(TcpProxy.TunnelingConfig.newBuilder().setHostname("h")),
                "tunneling_config: not supported yet");
        assertError(minimal().addHashPolicy(HashPolicy.getDefaultInstance()), "hash_policy: not supported yet");
        assertError(minimal().setMetadataMatch(Metadata.getDefaultInstance()), "metadata_match: not supported yet");
        assertError(minimal().setOnDemand(TcpProxy.OnDemand.getDefaultInstance()), "on_demand: not supported yet");
        assertError(minimal().setMaxDownstreamConnectionDuration(Duration.newBuilder().setSeconds(1)),
                "max_downstream_connection_duration: not supported yet");
    }

    @Test
    void harmlessFieldsAreAcceptedWithAWarning() {
        TcpProxySettings s = bind(minimal()
                .setBackoffOptions(BackoffStrategy.getDefaultInstance())
                .setDownstreamIdleTimeout(Duration.newBuilder().setSeconds(1))
                .setFlushAccessLogOnConnected(true).build());
        assertThat(s.clusterNames()).containsExactly("backend");
    }

    private void assertError(TcpProxy.Builder config, String message) {
        assertThatThrownBy(() -> factory.create(config.build(), context))
                .isInstanceOf(ConfigException.class).hasMessage(message);
    }
}
