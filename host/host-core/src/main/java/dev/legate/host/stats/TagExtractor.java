package dev.legate.host.stats;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy's default tag extractors ({@code source/common/config/well_known_names.cc}), the subset Legate's stats
 * need, with Envoy's regexes: the first capture group is cut from the name, the second (or the first when
 * there is one) is the tag value; each tag name takes the first extractor that matches; all extractors run
 * against the original name.
 *
 * <ul>
 *   <li>{@code envoy.response_code}: {@code _rq(_(\d{3}))$} ({@code upstream_rq_503} → {@code upstream_rq})</li>
 *   <li>{@code envoy.response_code_class}: {@code _rq_(\d)xx$} ({@code downstream_rq_2xx} →
 *       {@code downstream_rq_xx}, value {@code 2})</li>
 *   <li>{@code envoy.tcp_prefix}: {@code ^tcp\.((.*?)\.)\w+?$}</li>
 *   <li>{@code envoy.cluster_name}: {@code ^cluster\.(([^.]+)\.)} — the cluster name is the first dotted
 *       segment after {@code cluster.}, as in Envoy's RE2 rule: a cluster whose name contains a dot is cut at
 *       its first dot (its stats still render, under a longer metric name).</li>
 *   <li>{@code envoy.http_conn_manager_prefix}: {@code ^listener(?=\.).*?\.http\.((.*?)\.)}, then
 *       {@code ^http\.((.*?)\.)}</li>
 *   <li>{@code envoy.listener_address}: {@code ^listener\.(((?:[_.0-9]*|[_\[\]a-fA-F0-9]*))\.)}
 *       ({@code listener.0.0.0.0_10000.} → {@code 0.0.0.0_10000}; {@code listener.admin.} is not an address)</li>
 *   <li>{@code envoy.worker_id}: {@code ^listener_manager\.((worker_\d+)\.)}</li>
 * </ul>
 *
 * Stateless and thread-safe.
 */
final class TagExtractor {

    /** A stat name with its tags taken out: the tag-extracted name and the tags by (Envoy) tag name. */
    record Extracted(String name, Map<String, String> tags) {
    }

    private record Rule(String tag, Pattern pattern) {
    }

    private static final List<Rule> RULES = List.of(
            new Rule("envoy.response_code", Pattern.compile("_rq(_(\\d{3}))$")),
            new Rule("envoy.response_code_class", Pattern.compile("_rq_(\\d)xx$")),
            new Rule("envoy.tcp_prefix", Pattern.compile("^tcp\\.((.*?)\\.)\\w+?$")),
            new Rule("envoy.cluster_name", Pattern.compile("^cluster\\.(([^.]+)\\.)")),
            new Rule("envoy.http_conn_manager_prefix", Pattern.compile("^listener(?=\\.).*?\\.http\\.((.*?)\\.)")),
            new Rule("envoy.http_conn_manager_prefix", Pattern.compile("^http\\.((.*?)\\.)")),
            new Rule("envoy.listener_address",
                    Pattern.compile("^listener\\.(((?:[_.0-9]*|[_\\[\\]a-fA-F0-9]*))\\.)")),
            new Rule("envoy.worker_id", Pattern.compile("^listener_manager\\.((worker_\\d+)\\.)")));

    private TagExtractor() {
    }

    /** Extracts the default tags from {@code statName}. */
    static Extracted extract(String statName) {
        Map<String, String> tags = new TreeMap<>();
        BitSet removed = null;
        for (Rule rule : RULES) {
            if (tags.containsKey(rule.tag())) {
                continue;
            }
            Matcher m = rule.pattern().matcher(statName);
            if (!m.find()) {
                continue;
            }
            int valueGroup = m.groupCount() >= 2 ? 2 : 1;
            String value = m.group(valueGroup);
            if (value == null) {
                continue;
            }
            tags.put(rule.tag(), value);
            if (removed == null) {
                removed = new BitSet(statName.length());
            }
            removed.set(m.start(1), m.end(1));
        }
        if (removed == null) {
            return new Extracted(statName, tags);
        }
        StringBuilder sb = new StringBuilder(statName.length());
        for (int i = 0; i < statName.length(); i++) {
            if (!removed.get(i)) {
                sb.append(statName.charAt(i));
            }
        }
        return new Extracted(sb.toString(), tags);
    }

    /** Envoy's Prometheus sanitizing: every character outside {@code [a-zA-Z0-9_]} becomes {@code _}. */
    static String sanitize(String name) {
        StringBuilder sb = null;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            if (!ok) {
                if (sb == null) {
                    sb = new StringBuilder(name);
                }
                sb.setCharAt(i, '_');
            }
        }
        return sb == null ? name : sb.toString();
    }

    /** The labels of {@code tags}, sorted by name: {@code envoy_cluster_name="backend",envoy_response_code="503"}. */
    static String labels(Map<String, String> tags) {
        List<String> parts = new ArrayList<>(tags.size());
        tags.forEach((k, v) -> parts.add(sanitize(k) + "=\"" + escapeLabelValue(v) + "\""));
        return String.join(",", parts);
    }

    static String escapeLabelValue(String v) {
        if (v.indexOf('\\') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0) {
            return v;
        }
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
