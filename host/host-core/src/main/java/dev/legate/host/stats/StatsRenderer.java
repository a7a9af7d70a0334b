package dev.legate.host.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** The text, JSON and Prometheus renderings of {@link StatsStore}; admin thread only. */
final class StatsRenderer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] QUANTILE_LABELS = {"0", "25", "50", "75", "90", "95", "99", "99.5", "99.9", "100"};

    private StatsRenderer() {
    }

    private static boolean keep(Pattern filter, String name) {
        return filter == null || filter.matcher(name).find();
    }

    static String text(SortedMap<String, Long> counters, SortedMap<String, Long> gauges,
                       SortedMap<String, HistogramRecorder> histograms, Pattern filter) {
        SortedMap<String, Long> all = new TreeMap<>(counters);
        all.putAll(gauges);
        StringBuilder sb = new StringBuilder(all.size() * 48);
        all.forEach((name, value) -> {
            if (keep(filter, name)) {
                sb.append(name).append(": ").append(value).append('\n');
            }
        });
        histograms.forEach((name, h) -> {
            if (!keep(filter, name)) {
                return;
            }
            sb.append(name).append(": ");
            long[] cumulative = h.snapshot();
            long total = HistogramRecorder.total(cumulative);
            if (total == 0) {
                sb.append("No recorded values\n");
                return;
            }
            long[] interval = h.intervalCounts();
            long intervalTotal = HistogramRecorder.total(interval);
            double[] q = HistogramRecorder.SUPPORTED_QUANTILES;
            for (int i = 0; i < q.length; i++) {
                if (i > 0) {
                    sb.append(' ');
                }
                sb.append('P').append(QUANTILE_LABELS[i]).append('(')
                        .append(number(HistogramRecorder.quantile(interval, intervalTotal, q[i]))).append(',')
                        .append(number(HistogramRecorder.quantile(cumulative, total, q[i]))).append(')');
            }
            sb.append('\n');
        });
        return sb.toString();
    }

    static String json(SortedMap<String, Long> counters, SortedMap<String, Long> gauges,
                       SortedMap<String, HistogramRecorder> histograms, Pattern filter) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        ArrayNode stats = root.putArray("stats");
        SortedMap<String, Long> all = new TreeMap<>(counters);
        all.putAll(gauges);
        all.forEach((name, value) -> {
            if (keep(filter, name)) {
                stats.addObject().put("name", name).put("value", value);
            }
        });
        ArrayNode computed = f.arrayNode();
        histograms.forEach((name, h) -> {
            if (!keep(filter, name)) {
                return;
            }
            long[] cumulative = h.snapshot();
            long total = HistogramRecorder.total(cumulative);
            long[] interval = h.intervalCounts();
            long intervalTotal = HistogramRecorder.total(interval);
            ObjectNode hist = computed.addObject().put("name", name);
            ArrayNode values = hist.putArray("values");
            for (double q : HistogramRecorder.SUPPORTED_QUANTILES) {
                ObjectNode v = values.addObject();
                putNumber(v, "interval", HistogramRecorder.quantile(interval, intervalTotal, q));
                putNumber(v, "cumulative", HistogramRecorder.quantile(cumulative, total, q));
            }
        });
        if (!computed.isEmpty()) {
            ObjectNode histos = stats.addObject().putObject("histograms");
            ArrayNode supported = histos.putArray("supported_quantiles");
            for (String q : QUANTILE_LABELS) {
                putNumber(supported, Double.parseDouble(q));
            }
            histos.set("computed_quantiles", computed);
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String prometheus(SortedMap<String, Long> counters, SortedMap<String, Long> gauges,
                             SortedMap<String, HistogramRecorder> histograms, Pattern filter) {
        StringBuilder sb = new StringBuilder(4096);
        numericFamilies(sb, counters, "counter", filter);
        numericFamilies(sb, gauges, "gauge", filter);

        SortedMap<String, SortedMap<String, HistogramRecorder>> families = new TreeMap<>();
        histograms.forEach((name, h) -> {
            if (keep(filter, name)) {
                TagExtractor.Extracted x = TagExtractor.extract(name);
                families.computeIfAbsent(metricName(x.name()), k -> new TreeMap<>())
                        .put(TagExtractor.labels(x.tags()), h);
            }
        });
        families.forEach((family, series) -> {
            sb.append("# TYPE ").append(family).append(" histogram\n");
            series.forEach((labels, h) -> {
                String bucketLabels = labels.isEmpty() ? "" : labels + ",";
                long[] c = h.snapshot();
                long count = HistogramRecorder.total(c);
                for (double le : HistogramRecorder.PROMETHEUS_BUCKETS) {
                    sb.append(family).append("_bucket{").append(bucketLabels).append("le=\"").append(number(le))
                            .append("\"} ").append(HistogramRecorder.countAtMost(c, le)).append('\n');
                }
                sb.append(family).append("_bucket{").append(bucketLabels).append("le=\"+Inf\"} ").append(count)
                        .append('\n');
                sb.append(family).append("_sum{").append(labels).append("} ").append(h.sum()).append('\n');
                sb.append(family).append("_count{").append(labels).append("} ").append(count).append('\n');
            });
            sb.append('\n');
        });
        return sb.toString();
    }

    private static void numericFamilies(StringBuilder sb, SortedMap<String, Long> values, String type,
                                        Pattern filter) {
        SortedMap<String, SortedMap<String, Long>> families = new TreeMap<>();
        values.forEach((name, value) -> {
            if (keep(filter, name)) {
                TagExtractor.Extracted x = TagExtractor.extract(name);
                families.computeIfAbsent(metricName(x.name()), k -> new TreeMap<>())
                        .put(TagExtractor.labels(x.tags()), value);
            }
        });
        families.forEach((family, series) -> {
            sb.append("# TYPE ").append(family).append(' ').append(type).append('\n');
            series.forEach((labels, value) ->
                    sb.append(family).append('{').append(labels).append("} ").append(value).append('\n'));
            sb.append('\n');
        });
    }

    /** {@code envoy_} + the sanitized tag-extracted name. */
    static String metricName(String tagExtractedName) {
        return "envoy_" + TagExtractor.sanitize(tagExtractedName);
    }

    /** A double as Envoy's {@code fmt} prints it: {@code nan}, {@code 1}, {@code 1.05}, never an exponent. */
    static String number(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }

    private static void putNumber(ObjectNode node, String field, double d) {
        if (Double.isNaN(d)) {
            node.putNull(field);
        } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            node.put(field, (long) d);
        } else {
            node.put(field, d);
        }
    }

    private static void putNumber(ArrayNode node, double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            node.add((long) d);
        } else {
            node.add(d);
        }
    }
}
