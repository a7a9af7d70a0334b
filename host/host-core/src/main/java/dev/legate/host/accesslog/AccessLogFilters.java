package dev.legate.host.accesslog;

import dev.legate.api.ConfigException;
import dev.legate.api.ResponseFlag;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Envoy's access-log filters ({@code config.accesslog.v3.AccessLogFilter}), compiled to predicates at config
 * time: {@code status_code_filter}, {@code duration_filter} (comparison {@code EQ}/{@code GE}/{@code LE}
 * against {@code value.default_value}; runtime overrides are not read), {@code not_health_check_filter},
 * {@code response_flag_filter}, {@code and_filter}, {@code or_filter}. Others are a {@link ConfigException}
 * "not supported yet".
 *
 * <p>{@code not_health_check_filter} lets every entry through: no health-check filter marks streams yet.
 */
final class AccessLogFilters {

    /** Every flag code Envoy accepts in {@code response_flag_filter.flags}. */
    private static final Set<String> ENVOY_FLAGS = Set.of("LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI",
            "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC",
            "OM", "DF", "DO", "DR");

    private AccessLogFilters() {
    }

    static Predicate<LogContext> compile(AccessLogFilter f, String path) {
        return switch (f.getFilterSpecifierCase()) {
            case STATUS_CODE_FILTER -> comparison(f.getStatusCodeFilter().getComparison(),
                    path + ".status_code_filter.comparison", ctx -> ctx.info().responseCode());
            case DURATION_FILTER -> comparison(f.getDurationFilter().getComparison(),
                    path + ".duration_filter.comparison",
                    ctx -> Math.max(0, (ctx.nowNanos() - ctx.info().startTimeNanos()) / 1_000_000));
            case NOT_HEALTH_CHECK_FILTER -> ctx -> true;
            case RESPONSE_FLAG_FILTER -> responseFlags(f.getResponseFlagFilter().getFlagsList(),
                    path + ".response_flag_filter.flags");
            case AND_FILTER -> {
                List<Predicate<LogContext>> all = list(f.getAndFilter().getFiltersList(), path + ".and_filter.filters");
                yield ctx -> {
                    for (Predicate<LogContext> p : all) {
                        if (!p.test(ctx)) {
                            return false;
                        }
                    }
                    return true;
                };
            }
            case OR_FILTER -> {
                List<Predicate<LogContext>> any = list(f.getOrFilter().getFiltersList(), path + ".or_filter.filters");
                yield ctx -> {
                    for (Predicate<LogContext> p : any) {
                        if (p.test(ctx)) {
                            return true;
                        }
                    }
                    return false;
                };
            }
            case FILTERSPECIFIER_NOT_SET -> throw ConfigException.at(path, "empty filter (expected one filter type)");
            default -> throw ConfigException.at(path + "." + fieldName(f), "not supported yet");
        };
    }

    private static String fieldName(AccessLogFilter f) {
        var oneof = AccessLogFilter.getDescriptor().getOneofs().get(0);
        var field = f.getOneofFieldDescriptor(oneof);
        return field == null ? "filter_specifier" : field.getName();
    }

    private static List<Predicate<LogContext>> list(List<AccessLogFilter> filters, String path) {
        if (filters.size() < 2) {
            throw ConfigException.at(path, filters.size() + " filters (expected: at least 2)");
        }
        List<Predicate<LogContext>> out = new ArrayList<>(filters.size());
        for (int i = 0; i < filters.size(); i++) {
            out.add(compile(filters.get(i), path + "[" + i + "]"));
        }
        return List.copyOf(out);
    }

    private static Predicate<LogContext> comparison(ComparisonFilter c, String path, ToLongFunction<LogContext> value) {
        long target = Integer.toUnsignedLong(c.getValue().getDefaultValue());
        return switch (c.getOp()) {
            case EQ -> ctx -> value.applyAsLong(ctx) == target;
            case GE -> ctx -> value.applyAsLong(ctx) >= target;
            case LE -> ctx -> value.applyAsLong(ctx) <= target;
            default -> throw ConfigException.at(path + ".op", c.getOp() + " (expected: EQ, GE or LE)");
        };
    }

    private static Predicate<LogContext> responseFlags(List<String> codes, String path) {
        if (codes.isEmpty()) {
            return ctx -> !ctx.info().responseFlags().isEmpty();
        }
        Set<ResponseFlag> wanted = EnumSet.noneOf(ResponseFlag.class);
        for (int i = 0; i < codes.size(); i++) {
            String code = codes.get(i);
            ResponseFlag match = null;
            for (ResponseFlag rf : ResponseFlag.values()) {
                if (rf.code().equals(code)) {
                    match = rf;
                }
            }
            if (match == null && !ENVOY_FLAGS.contains(code)) {
                throw ConfigException.at(path + "[" + i + "]", "\"" + code + "\" (expected a response flag such as UH, UF, NR)");
            }
            if (match != null) {
                wanted.add(match); // an Envoy flag Legate never sets matches nothing
            }
        }
        return ctx -> {
            for (ResponseFlag rf : ctx.info().responseFlags()) {
                if (wanted.contains(rf)) {
                    return true;
                }
            }
            return false;
        };
    }
}
