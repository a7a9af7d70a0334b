package dev.legate.filters.http.fault;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import dev.legate.api.ConfigException;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.matcher.HeaderMatchers;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultRateLimit;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One compiled {@code envoy.extensions.filters.http.fault.v3.HTTPFault}: the listener-level config of an
 * {@code http_filters} entry, or a route's {@code typed_per_filter_config} entry, which replaces it wholesale
 * (Envoy's {@code FaultSettings}, source/extensions/filters/http/fault/fault_filter.cc, and the providers of
 * source/extensions/filters/common/fault/fault_config.cc). Immutable and shared by every event loop.
 *
 * <p>Every field is honoured except the runtime-key overrides ({@code delay_percent_runtime} ...
 * {@code abort_grpc_status_runtime}) and {@code filter_metadata}: Legate has no runtime and no dynamic metadata, so
 * setting one is a warning at start-up and the configured value applies, as in Envoy with an empty runtime.
 *
 * @param delay                         {@code delay}, or {@code null}
 * @param abort                         {@code abort}, or {@code null}
 * @param upstreamCluster               {@code upstream_cluster}: fault only requests routed there; {@code ""} = any
 * @param headers                       {@code headers}: all must match
 * @param downstreamNodes               {@code downstream_nodes}: fault only requests whose
 *                                      {@code x-envoy-downstream-service-node} is one of them; empty = any
 * @param maxActiveFaults               {@code max_active_faults}; {@link Long#MAX_VALUE} when unset
 * @param responseRateLimit             {@code response_rate_limit}, or {@code null}
 * @param disableDownstreamClusterStats {@code disable_downstream_cluster_stats}
 */
record FaultSettings(Delay delay, Abort abort, String upstreamCluster, List<Predicate<HeaderMap>> headers,
                     Set<String> downstreamNodes, long maxActiveFaults, RateLimit responseRateLimit,
                     boolean disableDownstreamClusterStats) {

    private static final Logger logger = LoggerFactory.getLogger(FaultSettings.class);

    /** HTTP status to abort with; needs {@code abort.header_abort}. */
    static final String ABORT_REQUEST = "x-envoy-fault-abort-request";
    /** gRPC status to abort with (the HTTP status is 200); needs {@code abort.header_abort}. */
    static final String ABORT_GRPC_REQUEST = "x-envoy-fault-abort-grpc-request";
    /** Abort percentage numerator, capped at the configured one; needs {@code abort.header_abort}. */
    static final String ABORT_REQUEST_PERCENTAGE = "x-envoy-fault-abort-request-percentage";
    /** Delay in milliseconds; needs {@code delay.header_delay}. */
    static final String DELAY_REQUEST = "x-envoy-fault-delay-request";
    /** Delay percentage numerator, capped at the configured one; needs {@code delay.header_delay}. */
    static final String DELAY_REQUEST_PERCENTAGE = "x-envoy-fault-delay-request-percentage";
    /** Response rate limit in KiB/s; needs {@code response_rate_limit.header_limit}. */
    static final String THROUGHPUT_RESPONSE = "x-envoy-fault-throughput-response";
    /** Rate limit percentage numerator, capped at the configured one; needs {@code header_limit}. */
    static final String THROUGHPUT_RESPONSE_PERCENTAGE = "x-envoy-fault-throughput-response-percentage";

    /** The runtime-key fields of {@code HTTPFault}, with Envoy's default keys. */
    private static final List<String[]> RUNTIME_FIELDS = List.of(
            new String[] {"delay_percent_runtime", "fault.http.delay.fixed_delay_percent"},
            new String[] {"abort_percent_runtime", "fault.http.abort.abort_percent"},
            new String[] {"delay_duration_runtime", "fault.http.delay.fixed_duration_ms"},
            new String[] {"abort_http_status_runtime", "fault.http.abort.http_status"},
            new String[] {"max_active_faults_runtime", "fault.http.max_active_faults"},
            new String[] {"response_rate_limit_percent_runtime", "fault.http.rate_limit.response_percent"},
            new String[] {"abort_grpc_status_runtime", "fault.http.abort.grpc_status"});

    FaultSettings {
        requireNonNull(upstreamCluster, "upstreamCluster");
        headers = List.copyOf(headers);
        downstreamNodes = Set.copyOf(downstreamNodes);
    }

    /**
     * Compiles {@code config}, checking the rules of Envoy's proto annotations (which {@code JsonFormat} does
     * not enforce) and warning about what Legate does not run.
     *
     * @param where what the config is, for the warnings: {@code http_filters} or a route's per-filter config
     * @throws ConfigException naming the field, e.g. {@code abort.http_status: 700 (expected: >= 200 and < 600)}
     */
    static FaultSettings from(HTTPFault config, String where) {
        requireNonNull(config, "config");
        requireNonNull(where, "where");
        warnAboutRuntimeKeys(config, where);
        if (config.hasFilterMetadata()) {
            logger.warn("{}: filter_metadata is ignored (Legate has no dynamic metadata yet)", where);
        }
        Delay delay = config.hasDelay() ? Delay.from(config.getDelay(), "delay") : null;
        Abort abort = config.hasAbort() ? Abort.from(config.getAbort(), "abort") : null;
        RateLimit rateLimit = config.hasResponseRateLimit()
                ? RateLimit.from(config.getResponseRateLimit(), "response_rate_limit") : null;
        List<Predicate<HeaderMap>> headers = new ArrayList<>(config.getHeadersCount());
        for (int i = 0; i < config.getHeadersCount(); i++) {
            headers.add(HeaderMatchers.compile(config.getHeaders(i), "headers[" + i + "]"));
        }
        long maxActive = config.hasMaxActiveFaults()
                ? Integer.toUnsignedLong(config.getMaxActiveFaults().getValue()) : Long.MAX_VALUE;
        return new FaultSettings(delay, abort, config.getUpstreamCluster(), headers,
                Set.copyOf(config.getDownstreamNodesList()), maxActive, rateLimit,
                config.getDisableDownstreamClusterStats());
    }

    private static void warnAboutRuntimeKeys(HTTPFault config, String where) {
        for (String[] field : RUNTIME_FIELDS) {
            Object value = config.getField(HTTPFault.getDescriptor().findFieldByName(field[0]));
            if (!((String) value).isEmpty()) {
                logger.warn("{}: {}: \"{}\" is ignored (Legate has no runtime; the configured value applies, as with"
                        + " an unset runtime key)", where, field[0], value);
            }
        }
    }

    /**
     * A {@code type.v3.FractionalPercent}: {@code numerator} out of 100, 10 000 or 1 000 000.
     *
     * @param numerator   may exceed the denominator (then always)
     * @param denominator 100, 10 000 or 1 000 000
     */
    record Percentage(long numerator, long denominator) {

        static Percentage from(FractionalPercent p, String path) {
            long denominator = switch (p.getDenominator()) {
                case HUNDRED -> 100;
                case TEN_THOUSAND -> 10_000;
                case MILLION -> 1_000_000;
                default -> throw ConfigException.at(path + ".denominator",
                        p.getDenominatorValue() + " (expected: HUNDRED, TEN_THOUSAND or MILLION)");
            };
            return new Percentage(Integer.toUnsignedLong(p.getNumerator()), denominator);
        }

        /**
         * Whether this draw falls in the percentage (Envoy's {@code ProtobufPercentHelper::evaluateFractionalPercent}:
         * a uniform value below the denominator is below the numerator).
         */
        boolean evaluate(RandomGenerator random) {
            return numerator > 0 && random.nextLong(denominator) < numerator;
        }

        /**
         * Envoy's {@code HeaderPercentageProvider}: the numerator from {@code header} (first value), capped at this
         * numerator, over this denominator; this percentage when the header is absent or not an unsigned 32-bit
         * integer.
         */
        Percentage fromHeader(HeaderMap headers, String header) {
            long n = parseUnsigned(headers.get(header), 0xFFFF_FFFFL);
            return n < 0 ? this : new Percentage(Math.min(n, numerator), denominator);
        }
    }

    /**
     * {@code delay}: a fixed duration or one read from {@code x-envoy-fault-delay-request}.
     *
     * @param fixedMillis {@code fixed_delay} in milliseconds (truncated, as Envoy's {@code PROTOBUF_GET_MS_REQUIRED});
     *                    -1 for {@code header_delay}
     */
    record Delay(long fixedMillis, Percentage percentage) {

        static Delay from(FaultDelay d, String path) {
            Percentage percentage = Percentage.from(d.getPercentage(), path + ".percentage");
            return switch (d.getFaultDelaySecifierCase()) {
                case FIXED_DELAY -> new Delay(positiveMillis(d.getFixedDelay(), path + ".fixed_delay"), percentage);
                case HEADER_DELAY -> new Delay(-1, percentage);
                default -> throw ConfigException.at(path,
                        "no fixed_delay or header_delay (expected: one of them)");
            };
        }

        boolean fromHeader() {
            return fixedMillis < 0;
        }

        /** The percentage for this request (from {@code x-envoy-fault-delay-request-percentage} for header delays). */
        Percentage percentage(HeaderMap headers) {
            return fromHeader() ? percentage.fromHeader(headers, DELAY_REQUEST_PERCENTAGE) : percentage;
        }

        /** The delay in milliseconds for this request, or -1 when the header is absent or not a number. */
        long millis(HeaderMap headers) {
            return fromHeader() ? parseUnsigned(headers.get(DELAY_REQUEST), Long.MAX_VALUE) : fixedMillis;
        }
    }

    /**
     * {@code abort}: a fixed HTTP or gRPC status, or ones read from {@code x-envoy-fault-abort-request} /
     * {@code x-envoy-fault-abort-grpc-request}.
     *
     * @param httpStatus  {@code http_status}, or 0
     * @param grpcStatus  {@code grpc_status}, or -1
     * @param fromHeaders {@code header_abort}
     */
    record Abort(int httpStatus, long grpcStatus, boolean fromHeaders, Percentage percentage) {

        static Abort from(FaultAbort a, String path) {
            Percentage percentage = Percentage.from(a.getPercentage(), path + ".percentage");
            return switch (a.getErrorTypeCase()) {
                case HTTP_STATUS -> {
                    int status = a.getHttpStatus();
                    if (status < 200 || status >= 600) {
                        throw ConfigException.at(path + ".http_status",
                                Integer.toUnsignedString(status) + " (expected: >= 200 and < 600)");
                    }
                    yield new Abort(status, -1, false, percentage);
                }
                case GRPC_STATUS -> new Abort(0, Integer.toUnsignedLong(a.getGrpcStatus()), false, percentage);
                case HEADER_ABORT -> new Abort(0, -1, true, percentage);
                default -> throw ConfigException.at(path,
                        "no http_status, grpc_status or header_abort (expected: one of them)");
            };
        }

        /** The percentage for this request (from {@code x-envoy-fault-abort-request-percentage} for header aborts). */
        Percentage percentage(HeaderMap headers) {
            return fromHeaders ? percentage.fromHeader(headers, ABORT_REQUEST_PERCENTAGE) : percentage;
        }

        /** The HTTP status to abort with, or 0 (Envoy ignores a header value outside [200, 600)). */
        int httpStatus(HeaderMap headers) {
            if (!fromHeaders) {
                return httpStatus;
            }
            long code = parseUnsigned(headers.get(ABORT_REQUEST), Long.MAX_VALUE);
            return code >= 200 && code < 600 ? (int) code : 0;
        }

        /** The gRPC status to abort with, or -1. */
        long grpcStatus(HeaderMap headers) {
            return fromHeaders ? parseUnsigned(headers.get(ABORT_GRPC_REQUEST), 0xFFFF_FFFFL) : grpcStatus;
        }
    }

    /**
     * {@code response_rate_limit}: a fixed KiB/s or one read from {@code x-envoy-fault-throughput-response}.
     *
     * @param fixedKbps {@code fixed_limit.limit_kbps}; 0 for {@code header_limit}
     */
    record RateLimit(long fixedKbps, Percentage percentage) {

        static RateLimit from(FaultRateLimit r, String path) {
            Percentage percentage = Percentage.from(r.getPercentage(), path + ".percentage");
            return switch (r.getLimitTypeCase()) {
                case FIXED_LIMIT -> {
                    long kbps = r.getFixedLimit().getLimitKbps();
                    if (kbps < 1) {
                        throw ConfigException.at(path + ".fixed_limit.limit_kbps",
                                Long.toUnsignedString(kbps) + " (expected: >= 1)");
                    }
                    yield new RateLimit(kbps, percentage);
                }
                case HEADER_LIMIT -> new RateLimit(0, percentage);
                default -> throw ConfigException.at(path,
                        "no fixed_limit or header_limit (expected: one of them)");
            };
        }

        /** The percentage for this request (from {@code x-envoy-fault-throughput-response-percentage} for header limits). */
        Percentage percentage(HeaderMap headers) {
            return fixedKbps == 0 ? percentage.fromHeader(headers, THROUGHPUT_RESPONSE_PERCENTAGE) : percentage;
        }

        /** KiB/s for this request, or 0 when the header is absent, not a number or 0. */
        long kbps(HeaderMap headers) {
            if (fixedKbps > 0) {
                return fixedKbps;
            }
            return Math.max(0, parseUnsigned(headers.get(THROUGHPUT_RESPONSE), Long.MAX_VALUE / 1024));
        }
    }

    /**
     * An unsigned decimal header value up to {@code max} (Envoy's {@code absl::SimpleAtoi} on the first value:
     * surrounding blanks and a leading {@code +} are allowed), or -1 when absent or not one.
     */
    static long parseUnsigned(String value, long max) {
        if (value == null) {
            return -1;
        }
        String v = value.strip();
        if (v.startsWith("-")) {
            return -1;
        }
        try {
            long n = Long.parseLong(v);
            return n <= max ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long positiveMillis(Duration d, String path) {
        if (d.getSeconds() < 0 || d.getNanos() < 0 || d.getNanos() > 999_999_999
                || (d.getSeconds() == 0 && d.getNanos() == 0)) {
            throw ConfigException.at(path, d.getSeconds() + "s " + d.getNanos() + "ns (expected: > 0)");
        }
        return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
    }
}
