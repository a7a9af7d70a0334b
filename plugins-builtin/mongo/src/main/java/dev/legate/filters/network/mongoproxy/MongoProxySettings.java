package dev.legate.filters.network.mongoproxy;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound {@code MongoProxy} config (Envoy's {@code MongoProxyFilterConfigFactory}, {@code config.cc}):
 * immutable, shared by every event loop of the listener.
 *
 * <ul>
 *   <li>{@code stat_prefix} (required): stats under {@code mongo.<stat_prefix>.};</li>
 *   <li>{@code access_log}: a file path (relative to the config file's directory), opened here; unset or empty:
 *       no access log;</li>
 *   <li>{@code delay}: {@code fixed_delay} (&gt; 0) with {@code percentage} (unset: 0 %, so never, as in
 *       Envoy); {@code header_delay} is accepted with a warning and never delays (mongo has no request
 *       headers; Envoy's filter does the same);</li>
 *   <li>{@code emit_dynamic_metadata}: see {@link MongoProxyFilter#DYNAMIC_METADATA};</li>
 *   <li>{@code commands}: the commands with their own {@code cmd.<command>.} stats; empty: Envoy's default
 *       {@code delete}, {@code insert}, {@code update}.</li>
 * </ul>
 * Envoy's runtime keys ({@code mongo.proxy_enabled}, {@code mongo.fault.fixed_delay.*}, ...) do not exist in
 * Legate: their defaults apply.
 *
 * <p>Thread-safe: immutable (the access log is thread-safe).
 */
public final class MongoProxySettings {

    private static final Logger log = LoggerFactory.getLogger(MongoProxySettings.class);

    /** Envoy's default {@code commands}. */
    public static final List<String> DEFAULT_COMMANDS = List.of("delete", "insert", "update");

    private static final Set<String> SUPPORTED =
            Set.of("stat_prefix", "access_log", "delay", "emit_dynamic_metadata", "commands");

    private final String statPrefix;
    private final MongoAccessLog accessLog;
    private final long delayMillis;
    private final long delayNumerator;
    private final long delayDenominator;
    private final boolean emitDynamicMetadata;
    private final Set<String> commands;
    private final MongoProxyStats stats;

    private MongoProxySettings(String statPrefix, MongoAccessLog accessLog, long delayMillis, long delayNumerator,
                               long delayDenominator, boolean emitDynamicMetadata, Set<String> commands,
                               MongoProxyStats stats) {
        this.statPrefix = statPrefix;
        this.accessLog = accessLog;
        this.delayMillis = delayMillis;
        this.delayNumerator = delayNumerator;
        this.delayDenominator = delayDenominator;
        this.emitDynamicMetadata = emitDynamicMetadata;
        this.commands = commands;
        this.stats = stats;
    }

    /**
     * Checks and binds {@code config}, on the main thread: opens the access log (closed with the listener,
     * through {@link FactoryContext#onClose}) unless {@link FactoryContext#validateOnly()}.
     *
     * @throws ConfigException naming the first field of {@code config} that Legate cannot run
     */
    public static MongoProxySettings from(MongoProxy config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        for (FieldDescriptor f : config.getAllFields().keySet()) {
            if (!SUPPORTED.contains(f.getName())) {
                throw ConfigException.at(f.getName(), "not supported yet");
            }
        }
        if (config.getStatPrefix().isEmpty()) {
            throw ConfigException.at("stat_prefix", "\"\" (expected: a non-empty string)");
        }

        long delayMillis = 0;
        long numerator = 0;
        long denominator = 100;
        if (config.hasDelay()) {
            FaultDelay delay = config.getDelay();
            switch (delay.getFaultDelaySecifierCase()) {
                case FIXED_DELAY -> delayMillis = positiveMillis(delay.getFixedDelay(), "delay.fixed_delay");
                case HEADER_DELAY -> log.warn("envoy.filters.network.mongo_proxy: delay.header_delay never delays"
                        + " a mongo connection (no request headers), as in Envoy");
                default -> throw ConfigException.at("delay",
                        "neither fixed_delay nor header_delay is set (expected: one of them)");
            }
            if (delay.hasPercentage()) {
                FractionalPercent p = delay.getPercentage();
                denominator = switch (p.getDenominator()) {
                    case HUNDRED -> 100;
                    case TEN_THOUSAND -> 10_000;
                    case MILLION -> 1_000_000;
                    default -> throw ConfigException.at("delay.percentage.denominator",
                            p.getDenominatorValue() + " (expected: HUNDRED, TEN_THOUSAND or MILLION)");
                };
                numerator = Integer.toUnsignedLong(p.getNumerator());
            }
        }

        Set<String> commands = config.getCommandsCount() == 0
                ? Set.copyOf(DEFAULT_COMMANDS)
                : Set.copyOf(new LinkedHashSet<>(config.getCommandsList()));

        MongoAccessLog accessLog = null;
        if (!config.getAccessLog().isEmpty() && !context.validateOnly()) {
            Path path;
            try {
                path = context.configDirectory().resolve(config.getAccessLog());
            } catch (InvalidPathException e) {
                throw ConfigException.at("access_log", "\"" + config.getAccessLog() + "\" (expected: a file path)");
            }
            try {
                accessLog = MongoAccessLog.open(path);
            } catch (IOException e) {
                throw ConfigException.at("access_log", "\"" + config.getAccessLog() + "\" cannot be opened: " + e);
            }
            context.onClose(accessLog);
        }

        return new MongoProxySettings(config.getStatPrefix(), accessLog, delayMillis, numerator, denominator,
                config.getEmitDynamicMetadata(), commands,
                new MongoProxyStats(context.stats(), config.getStatPrefix(), commands));
    }

    private static long positiveMillis(Duration d, String path) {
        if (d.getSeconds() < 0 || d.getNanos() < 0 || (d.getSeconds() == 0 && d.getNanos() == 0)) {
            throw ConfigException.at(path, d.getSeconds() + "s " + d.getNanos() + "ns (expected: > 0s)");
        }
        long millis = Math.multiplyExact(d.getSeconds(), 1000L) + d.getNanos() / 1_000_000;
        return Math.max(millis, 1);
    }

    /** {@code stat_prefix}. */
    public String statPrefix() {
        return statPrefix;
    }

    /** The access log file, or {@code null} when none is written. */
    public Path accessLogPath() {
        return accessLog == null ? null : accessLog.path();
    }

    /** {@code delay.fixed_delay} in milliseconds; 0 when no delay is configured. */
    public long delayMillis() {
        return delayMillis;
    }

    /** {@code delay.percentage} as numerator / denominator (0 / 100 when unset). */
    public long delayNumerator() {
        return delayNumerator;
    }

    /** See {@link #delayNumerator()}. */
    public long delayDenominator() {
        return delayDenominator;
    }

    /** {@code emit_dynamic_metadata}. */
    public boolean emitDynamicMetadata() {
        return emitDynamicMetadata;
    }

    /** The commands with their own {@code cmd.<command>.} stats. */
    public Set<String> commands() {
        return commands;
    }

    MongoAccessLog accessLog() {
        return accessLog;
    }

    MongoProxyStats stats() {
        return stats;
    }

    /**
     * Whether to delay this message (Envoy's {@code delayDuration}): a delay is configured and a draw from
     * {@code random} falls under the percentage.
     */
    boolean sampleDelay(RandomGenerator random) {
        return delayMillis > 0 && delayNumerator > 0
                && (delayNumerator >= delayDenominator || random.nextLong(delayDenominator) < delayNumerator);
    }
}
