package dev.legate.filters.http.grpc.stats;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.StateKey;
import dev.legate.api.http.GrpcCommon.RequestNames;
import io.envoyproxy.envoy.config.core.v3.GrpcMethodList;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterConfig;
import io.envoyproxy.envoy.extensions.filters.http.grpc_stats.v3.FilterObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The compiled {@code envoy.extensions.filters.http.grpc_stats.v3.FilterConfig} (Envoy's {@code Config} in
 * grpc_stats_filter.cc); immutable, shared by every event loop.
 *
 * @param emitFilterState       {@code emit_filter_state}: keep the message counts in the stream's filter state
 *                              under {@link #FILTER_STATE}
 * @param enableUpstreamStats   {@code enable_upstream_stats}: record {@code upstream_rq_time}
 * @param replaceDotsInServiceName {@code replace_dots_in_grpc_service_name}: {@code foo.Bar} counts as
 *                              {@code foo_Bar} (with {@code stats_for_all_methods} only, as in Envoy)
 * @param statsForAllMethods    {@code stats_for_all_methods}; {@code false} when unset (Envoy's current default)
 * @param allowlist             {@code individual_method_stats_allowlist}: service → methods counted under their
 *                              names; {@code null} when not set
 */
public record GrpcStatsSettings(boolean emitFilterState, boolean enableUpstreamStats, boolean replaceDotsInServiceName,
                                boolean statsForAllMethods, Map<String, Set<String>> allowlist) {

    /**
     * The filter state this filter writes with {@code emit_filter_state}, under Envoy's name: the request and
     * response message counts so far, replaced as they grow.
     */
    public static final StateKey<FilterObject> FILTER_STATE =
            StateKey.of("envoy.filters.http.grpc_stats", FilterObject.class);

    /** Copies {@code allowlist} (immutable); {@code null} stays {@code null}. */
    public GrpcStatsSettings {
        allowlist = allowlist == null ? null : Map.copyOf(allowlist);
    }

    /**
     * Compiles {@code config}.
     *
     * @throws ConfigException for an allowlist service without a name or without methods (Envoy's proto
     *         validation: {@code name} min_len 1, {@code method_names} min_items 1)
     */
    public static GrpcStatsSettings from(FilterConfig config) {
        requireNonNull(config, "config");
        Map<String, Set<String>> allowlist = null;
        if (config.hasIndividualMethodStatsAllowlist()) {
            allowlist = new HashMap<>();
            GrpcMethodList list = config.getIndividualMethodStatsAllowlist();
            for (int i = 0; i < list.getServicesCount(); i++) {
                GrpcMethodList.Service s = list.getServices(i);
                String path = "individual_method_stats_allowlist.services[" + i + "]";
                if (s.getName().isEmpty()) {
                    throw ConfigException.at(path + ".name", "\"\" (expected: non-empty)");
                }
                if (s.getMethodNamesCount() == 0) {
                    throw ConfigException.at(path + ".method_names", "[] (expected: at least one method)");
                }
                allowlist.merge(s.getName(), Set.copyOf(s.getMethodNamesList()), (a, b) -> {
                    Set<String> u = new HashSet<>(a);
                    u.addAll(b);
                    return Set.copyOf(u);
                });
            }
        }
        boolean forAll = config.hasStatsForAllMethods() && config.getStatsForAllMethods().getValue();
        return new GrpcStatsSettings(config.getEmitFilterState(), config.getEnableUpstreamStats(),
                config.getReplaceDotsInGrpcServiceName(), forAll, allowlist);
    }

    /**
     * The names {@code names} (from the path) count under, Envoy's rules: with {@code stats_for_all_methods}
     * every method by its name (dots of the service replaced when asked); otherwise only an allowlisted method,
     * and {@code null} — the shared bucket without service and method — for the rest.
     */
    RequestNames statNames(RequestNames names) {
        if (statsForAllMethods) {
            return replaceDotsInServiceName
                    ? new RequestNames(names.service().replace('.', '_'), names.method()) : names;
        }
        if (allowlist == null) {
            return null;
        }
        Set<String> methods = allowlist.get(names.service());
        return methods != null && methods.contains(names.method()) ? names : null;
    }
}
