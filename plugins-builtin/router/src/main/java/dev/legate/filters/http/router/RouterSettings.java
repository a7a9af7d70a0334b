package dev.legate.filters.http.router;

import static java.util.Objects.requireNonNull;

import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compiled {@code envoy.extensions.filters.http.router.v3.Router} config of one {@code http_filters} entry.
 * Immutable and shared by every event loop; built on the main thread by {@link RouterFilterFactory}.
 *
 * @param suppressEnvoyHeaders     {@code suppress_envoy_headers}: no {@code x-envoy-upstream-service-time},
 *                                 {@code x-envoy-expected-rq-timeout-ms}, {@code x-envoy-overloaded}
 * @param dynamicStats             {@code dynamic_stats} (default true): charge {@code upstream_rq_<code>},
 *                                 {@code upstream_rq_<N>xx}, {@code upstream_rq_completed}, {@code upstream_rq_time}
 * @param respectExpectedRqTimeout {@code respect_expected_rq_timeout}: a downstream
 *                                 {@code x-envoy-expected-rq-timeout-ms} sets the global timeout
 * @param strictCheckHeaders       {@code strict_check_headers}: headers whose bad value answers 400
 * @param suppressGrpcRequestFailureCodeStats {@code suppress_grpc_request_failure_code_stats}: no
 *                                 {@code upstream_rq_<code>} / {@code upstream_rq_<N>xx} for gRPC requests
 * @param upstreamLog              {@code upstream_log}, written once per upstream attempt; {@code null} when none
 * @param stats                    the HCM-rooted router counters
 */
record RouterSettings(boolean suppressEnvoyHeaders, boolean dynamicStats, boolean respectExpectedRqTimeout,
                             Set<String> strictCheckHeaders, boolean suppressGrpcRequestFailureCodeStats,
                             AccessLogger upstreamLog, RouterStats stats) {

    private static final Logger logger = LoggerFactory.getLogger(RouterSettings.class);

    private static final List<String> STRICT_CHECKABLE = List.of(
            RouterFilter.X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS, RouterFilter.X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS,
            RouterFilter.X_ENVOY_MAX_RETRIES, RouterFilter.X_ENVOY_RETRY_GRPC_ON, RouterFilter.X_ENVOY_RETRY_ON);

    RouterSettings {
        strictCheckHeaders = Set.copyOf(strictCheckHeaders);
        requireNonNull(stats, "stats");
    }

    /**
     * Binds {@code config}: every field is either honoured, refused with a {@link ConfigException} naming it
     * (when ignoring it would change behaviour), or warned about (when it would not).
     *
     * @param context the HCM's context, whose {@code stats()} is scoped to {@code http.<stat_prefix>.}
     */
    @SuppressWarnings("deprecation") // start_child_span is deprecated in Envoy, still read to warn about it
    static RouterSettings from(Router config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        if (config.getStartChildSpan()) {
            logger.warn("start_child_span: true is ignored (Legate has no tracing yet)");
        }
        if (config.getUpstreamHttpFiltersCount() > 0) {
            throw ConfigException.at("upstream_http_filters",
                    config.getUpstreamHttpFiltersCount() + " entries (not supported yet: expected none)");
        }
        if (config.hasUpstreamLogOptions()) {
            Router.UpstreamAccessLogOptions options = config.getUpstreamLogOptions();
            if (options.getFlushUpstreamLogOnUpstreamStream()) {
                throw ConfigException.at("upstream_log_options.flush_upstream_log_on_upstream_stream",
                        "true (not supported yet: expected false)");
            }
            if (options.hasUpstreamLogFlushInterval()) {
                throw ConfigException.at("upstream_log_options.upstream_log_flush_interval",
                        "set (not supported yet: expected unset)");
            }
        }
        Set<String> strict = new LinkedHashSet<>();
        for (int i = 0; i < config.getStrictCheckHeadersCount(); i++) {
            String header = config.getStrictCheckHeaders(i);
            if (!STRICT_CHECKABLE.contains(header)) {
                throw ConfigException.at("strict_check_headers[" + i + "]",
                        header + " (expected: one of " + String.join(", ", STRICT_CHECKABLE) + ")");
            }
            strict.add(header);
        }
        AccessLogger upstreamLog = config.getUpstreamLogCount() == 0
                ? null : context.accessLogger(config.getUpstreamLogList(), "upstream_log");
        boolean dynamicStats = !config.hasDynamicStats() || config.getDynamicStats().getValue();
        return new RouterSettings(config.getSuppressEnvoyHeaders(), dynamicStats,
                config.getRespectExpectedRqTimeout(), strict, config.getSuppressGrpcRequestFailureCodeStats(), upstreamLog,
                new RouterStats(context.stats()));
    }
}
