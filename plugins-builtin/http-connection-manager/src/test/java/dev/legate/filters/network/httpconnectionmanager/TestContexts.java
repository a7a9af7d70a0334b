package dev.legate.filters.network.httpconnectionmanager;

import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.testkit.TestFactoryContext;
import java.util.Set;

/** The testkit's {@link TestFactoryContext} set up for the HCM's config-tier tests. */
public final class TestContexts {

    private TestContexts() {
    }

    /**
     * A context that knows {@code envoy.filters.http.router} (terminal) and {@code legate.test.header} (not
     * terminal), the clusters {@code clusterNames} (by name only: {@code cluster(name)} is {@code null}),
     * service node {@code node-1} in cluster {@code cluster-1}, and an HTTP service that makes a no-op filter.
     */
    public static TestFactoryContext create(String... clusterNames) {
        Set<String> clusters = Set.of(clusterNames);
        return new TestFactoryContext()
                .httpFilter(new HttpFilterChainEntry("envoy.filters.http.router", callbacks -> new HttpFilter() { }, true))
                .httpFilter(new HttpFilterChainEntry("legate.test.header", callbacks -> new HttpFilter() { }, false))
                .clusterManager(new ClusterManager() {
                    @Override
                    public UpstreamCluster cluster(String name) {
                        return null;
                    }

                    @Override
                    public Set<String> clusterNames() {
                        return clusters;
                    }
                })
                .serviceNode("node-1")
                .serviceCluster("cluster-1")
                .httpService(config -> callbacks -> new NetworkFilter() { });
    }
}
