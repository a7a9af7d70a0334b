package dev.legate.host.stats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.legate.api.stats.Histogram;
import dev.legate.api.stats.Stats;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class StatsStoreRenderTest {

    private static StatsStore sample() {
        StatsStore store = new StatsStore();
        Stats root = store.root();
        Stats backend = root.scope("cluster.backend");
        backend.counter("upstream_rq_total").add(3);
        backend.counter("upstream_rq_503").add(2);
        backend.counter("upstream_rq_200").inc();
        backend.counter("upstream_rq_5xx").add(2);
        root.scope("cluster.other").counter("upstream_rq_total").add(7);
        root.scope("http.ingress").counter("downstream_rq_2xx").add(5);
        root.scope("listener.0.0.0.0_10000").counter("downstream_cx_total").inc();
        root.scope("listener.0.0.0.0_10000.http.ingress").counter("downstream_rq_2xx").add(4);
        root.scope("tcp.db").counter("downstream_cx_total").add(4);
        root.scope("server").gauge("live").set(1);
        root.scope("http.ingress").gauge("downstream_rq_active").set(2);
        return store;
    }

    @Test
    void prometheusUsesEnvoyNamesAndDefaultTags() {
        String out = sample().renderPrometheus();
        assertThat(out).contains(
                "# TYPE envoy_cluster_upstream_rq_total counter\n"
                        + "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 3\n"
                        + "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"other\"} 7\n\n",
                "# TYPE envoy_cluster_upstream_rq counter\n"
                        + "envoy_cluster_upstream_rq{envoy_cluster_name=\"backend\",envoy_response_code=\"200\"} 1\n"
                        + "envoy_cluster_upstream_rq{envoy_cluster_name=\"backend\",envoy_response_code=\"503\"} 2\n\n",
                "# TYPE envoy_cluster_upstream_rq_xx counter\n"
                        + "envoy_cluster_upstream_rq_xx{envoy_cluster_name=\"backend\",envoy_response_code_class=\"5\"} 2\n",
                "envoy_http_downstream_rq_xx{envoy_http_conn_manager_prefix=\"ingress\",envoy_response_code_class=\"2\"} 5\n",
                "envoy_listener_downstream_cx_total{envoy_listener_address=\"0.0.0.0_10000\"} 1\n",
                "envoy_listener_http_downstream_rq_xx{envoy_http_conn_manager_prefix=\"ingress\","
                        + "envoy_listener_address=\"0.0.0.0_10000\",envoy_response_code_class=\"2\"} 4\n",
                "# TYPE envoy_tcp_downstream_cx_total counter\nenvoy_tcp_downstream_cx_total{envoy_tcp_prefix=\"db\"} 4\n",
                "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n",
                "# TYPE envoy_http_downstream_rq_active gauge\n"
                        + "envoy_http_downstream_rq_active{envoy_http_conn_manager_prefix=\"ingress\"} 2\n");
        // counters come before gauges, as in Envoy
        assertThat(out.indexOf("counter\n")).isLessThan(out.indexOf("gauge\n"));
        // one TYPE line per family
        assertThat(out.split("# TYPE envoy_cluster_upstream_rq_total ", -1)).hasSize(2);
    }

    @Test
    void prometheusHistogramHasEnvoyBuckets() {
        StatsStore store = new StatsStore();
        Histogram h = store.root().scope("cluster.backend").histogram("upstream_rq_time");
        h.record(3);
        h.record(7);
        h.record(700);
        String out = store.renderPrometheus();
        assertThat(out).contains("# TYPE envoy_cluster_upstream_rq_time histogram\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"0.5\"} 0\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"5\"} 1\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"10\"} 2\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"1000\"} 3\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"3600000\"} 3\n",
                "envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name=\"backend\",le=\"+Inf\"} 3\n",
                "envoy_cluster_upstream_rq_time_sum{envoy_cluster_name=\"backend\"} 710\n",
                "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"backend\"} 3\n");
    }

    @Test
    void textIsSortedAndFiltered() {
        StatsStore store = sample();
        store.root().scope("cluster.backend").histogram("upstream_cx_length_ms");
        String all = store.renderText(null);
        assertThat(all).startsWith("cluster.backend.upstream_rq_200: 1\n"
                + "cluster.backend.upstream_rq_503: 2\n"
                + "cluster.backend.upstream_rq_5xx: 2\n"
                + "cluster.backend.upstream_rq_total: 3\n"
                + "cluster.other.upstream_rq_total: 7\n"
                + "http.ingress.downstream_rq_2xx: 5\n"
                + "http.ingress.downstream_rq_active: 2\n");
        assertThat(all).endsWith("cluster.backend.upstream_cx_length_ms: No recorded values\n");
        assertThat(all).contains("server.live: 1\n");

        String filtered = store.renderText(Pattern.compile("rq_total"));
        assertThat(filtered).isEqualTo("cluster.backend.upstream_rq_total: 3\ncluster.other.upstream_rq_total: 7\n");
    }

    @Test
    void textHistogramShowsQuantiles() {
        StatsStore store = new StatsStore();
        Histogram h = store.root().histogram("http.ingress.downstream_rq_time");
        for (int i = 1; i <= 4; i++) {
            h.record(10);
        }
        String out = store.renderText(Pattern.compile("rq_time"));
        assertThat(out).isEqualTo("http.ingress.downstream_rq_time: P0(nan,10) P25(nan,10) P50(nan,10) P75(nan,10)"
                + " P90(nan,10) P95(nan,10) P99(nan,10) P99.5(nan,10) P99.9(nan,10) P100(nan,10)\n");
        store.flushHistogramIntervals();
        assertThat(store.renderText(Pattern.compile("rq_time"))).startsWith("http.ingress.downstream_rq_time: P0(10,10) ");
    }

    @Test
    void jsonHasStatsAndHistograms() throws Exception {
        StatsStore store = sample();
        store.root().histogram("cluster.backend.upstream_rq_time").record(5);
        JsonNode json = new ObjectMapper().readTree(store.renderJson(Pattern.compile("backend")));
        JsonNode stats = json.get("stats");
        assertThat(stats.get(0).get("name").asText()).isEqualTo("cluster.backend.upstream_rq_200");
        assertThat(stats.get(0).get("value").asLong()).isEqualTo(1);
        assertThat(stats.size()).isEqualTo(5); // 4 counters + the histograms element
        JsonNode histos = stats.get(4).get("histograms");
        assertThat(histos.get("supported_quantiles").toString()).isEqualTo("[0,25,50,75,90,95,99,99.5,99.9,100]");
        JsonNode q = histos.get("computed_quantiles").get(0);
        assertThat(q.get("name").asText()).isEqualTo("cluster.backend.upstream_rq_time");
        assertThat(q.get("values").get(0).get("interval").isNull()).isTrue();
        assertThat(q.get("values").get(0).get("cumulative").asLong()).isEqualTo(5);

        JsonNode none = new ObjectMapper().readTree(store.renderJson(Pattern.compile("^server\\.")));
        assertThat(none.toString()).isEqualTo("{\"stats\":[{\"name\":\"server.live\",\"value\":1}]}");
    }

    @Test
    void bucketsAreMonotoneAndBounded() {
        for (long v : new long[] {0, 1, 31, 32, 33, 63, 64, 1000, 123_456_789L, Long.MAX_VALUE}) {
            int i = HistogramRecorder.index(v);
            assertThat(i).isBetween(0, HistogramRecorder.BUCKETS - 1);
            assertThat(HistogramRecorder.lowerBound(i)).isLessThanOrEqualTo(v);
            assertThat(v - HistogramRecorder.lowerBound(i)).isLessThan(HistogramRecorder.width(i));
        }
    }
}
