package dev.legate.filters.network.redisproxy;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.legate.api.ConfigException;
import dev.legate.api.config.DataSources;
import dev.legate.api.FactoryContext;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.network.redis_proxy.v3.RedisProxy;
import io.envoyproxy.envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.ConnPoolSettings;
import io.envoyproxy.envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound {@code RedisProxy} config (Envoy's {@code ProxyFilterConfig} and {@code PrefixRoutes},
 * {@code proxy_filter.cc}, {@code router_impl.cc}): immutable, shared by every event loop of the listener.
 *
 * <p>Fields Legate runs: {@code stat_prefix}; {@code settings.op_timeout} (required),
 * {@code enable_hashtagging}, {@code max_buffer_size_before_flush}, {@code buffer_flush_timeout} (3 ms
 * default when batching); {@code latency_in_micros}; {@code prefix_routes} ({@code routes[]} with
 * {@code prefix}, {@code remove_prefix}, {@code cluster}, {@code request_mirror_policy[]},
 * {@code key_formatter} ({@code %KEY%} only), {@code read_command_policy}; {@code case_insensitive};
 * {@code catch_all_route}); {@code downstream_auth_passwords}, {@code downstream_auth_password},
 * {@code downstream_auth_username}; {@code custom_commands}. Fields that would change what clients see and
 * that Legate does not run are a {@link ConfigException} {@code <field>: not supported yet}; those that only
 * matter to features Legate lacks (Redis Cluster) are accepted with a WARN.
 */
final class RedisProxySettings {

    private static final Logger log = LoggerFactory.getLogger(RedisProxySettings.class);

    /** Envoy's default {@code buffer_flush_timeout} when {@code max_buffer_size_before_flush} is set. */
    static final long DEFAULT_BUFFER_FLUSH_TIMEOUT_MILLIS = 3;

    /**
     * Where a key's commands go. {@code prefix} and {@code keyFormatter} are byte text ({@link #bytes}), as the
     * keys read from clients are.
     */
    record Route(String prefix, boolean removePrefix, String cluster, String readCluster, List<Mirror> mirrors,
                 String keyFormatter) {

        /** The cluster for {@code command}: the read cluster for read commands when one is set. */
        String clusterFor(String command) {
            return readCluster != null && RedisCommands.isRead(command) ? readCluster : cluster;
        }
    }

    /**
     * A {@code request_mirror_policy}: a copy of the request goes to {@code cluster} with probability
     * {@code numerator / denominator}; its reply is dropped.
     */
    record Mirror(String cluster, long numerator, long denominator, boolean excludeReadCommands) {

        /** Whether to mirror {@code command} this time (Envoy's {@code MirrorPolicyImpl::shouldMirror}). */
        boolean shouldMirror(String command) {
            if (excludeReadCommands && RedisCommands.isRead(command)) {
                return false;
            }
            return numerator >= denominator || ThreadLocalRandom.current().nextLong(denominator) < numerator;
        }
    }

    private final String statPrefix;
    private final long opTimeoutMillis;
    private final boolean hashtagging;
    private final int maxBufferSizeBeforeFlush;
    private final long bufferFlushTimeoutMillis;
    private final boolean latencyInMicros;
    /** Longest prefix first. */
    private final List<Route> routes;
    /** The prefixes of {@link #routes}, ASCII lower case when {@link #caseInsensitive}. */
    private final String[] matchPrefixes;
    private final boolean caseInsensitive;
    private final Route catchAll;
    /** Byte text ({@link #bytes}), as AUTH arguments read from clients are. */
    private final List<String> passwords;
    /** Byte text ({@link #bytes}). */
    private final String username;
    private final Set<String> customCommands;
    private final RedisProxyStats stats;

    private RedisProxySettings(Builder b) {
        this.statPrefix = b.statPrefix;
        this.opTimeoutMillis = b.opTimeoutMillis;
        this.hashtagging = b.hashtagging;
        this.maxBufferSizeBeforeFlush = b.maxBufferSizeBeforeFlush;
        this.bufferFlushTimeoutMillis = b.bufferFlushTimeoutMillis;
        this.latencyInMicros = b.latencyInMicros;
        this.routes = List.copyOf(b.routes);
        this.caseInsensitive = b.caseInsensitive;
        this.matchPrefixes = routes.stream()
                .map(r -> caseInsensitive ? RedisCommands.lower(r.prefix()) : r.prefix()).toArray(String[]::new);
        this.catchAll = b.catchAll;
        this.passwords = List.copyOf(b.passwords);
        this.username = b.username;
        this.customCommands = Set.copyOf(b.customCommands);
        this.stats = b.stats;
    }

    private static final class Builder {
        String statPrefix;
        long opTimeoutMillis;
        boolean hashtagging;
        int maxBufferSizeBeforeFlush;
        long bufferFlushTimeoutMillis = DEFAULT_BUFFER_FLUSH_TIMEOUT_MILLIS;
        boolean latencyInMicros;
        List<Route> routes = new ArrayList<>();
        boolean caseInsensitive;
        Route catchAll;
        List<String> passwords = new ArrayList<>();
        String username = "";
        Set<String> customCommands = new HashSet<>();
        RedisProxyStats stats;
    }

    /** {@code stat_prefix}. */
    String statPrefix() {
        return statPrefix;
    }

    /** {@code settings.op_timeout} in ms. */
    long opTimeoutMillis() {
        return opTimeoutMillis;
    }

    /** {@code settings.enable_hashtagging}. */
    boolean hashtagging() {
        return hashtagging;
    }

    /** {@code settings.max_buffer_size_before_flush}; 0: flush after each read's requests. */
    int maxBufferSizeBeforeFlush() {
        return maxBufferSizeBeforeFlush;
    }

    /** {@code settings.buffer_flush_timeout} in ms (3 by default). */
    long bufferFlushTimeoutMillis() {
        return bufferFlushTimeoutMillis;
    }

    /** {@code latency_in_micros}. */
    boolean latencyInMicros() {
        return latencyInMicros;
    }

    /** The routes, longest prefix first. */
    List<Route> routes() {
        return routes;
    }

    /** {@code prefix_routes.catch_all_route}, or {@code null}. */
    Route catchAll() {
        return catchAll;
    }

    /**
     * {@code s} as the text of its UTF-8 bytes, one char per byte (ISO-8859-1), "byte text": how configured
     * prefixes, key formatters, passwords and usernames are held, so that they compare with the bytes clients
     * send ({@link RespValue#asString}) and turn back into the same bytes with {@code getBytes(ISO_8859_1)}.
     * Envoy compares them as byte strings ({@code std::string}) too.
     */
    static String bytes(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** Passwords a client may AUTH with (byte text, {@link #bytes}); empty: no AUTH needed. */
    List<String> passwords() {
        return passwords;
    }

    /** {@code downstream_auth_username} (byte text, {@link #bytes}), or {@code ""}. */
    String username() {
        return username;
    }

    /** Whether a new connection must AUTH first (Envoy: a password or a username is configured). */
    boolean authRequired() {
        return !passwords.isEmpty() || !username.isEmpty();
    }

    boolean checkPassword(String password) {
        return passwords.contains(password);
    }

    boolean isCustomCommand(String command) {
        return customCommands.contains(command);
    }

    RedisProxyStats stats() {
        return stats;
    }

    /**
     * The route of {@code key} (byte text, {@link RespValue#asString}): the longest matching prefix ({@code case_insensitive}: ASCII case ignored),
     * else the catch-all route, else {@code null} (Envoy's {@code PrefixRoutes::upstreamPool}).
     */
    Route route(String key) {
        String k = caseInsensitive ? RedisCommands.lower(key) : key;
        for (int i = 0; i < matchPrefixes.length; i++) {
            if (k.startsWith(matchPrefixes[i])) {
                return routes.get(i);
            }
        }
        return catchAll;
    }

    /**
     * Checks and binds {@code config}, on the main thread.
     *
     * @throws ConfigException naming the first field Legate cannot run
     */
    static RedisProxySettings from(RedisProxy config, FactoryContext context) {
        requireNonNull(config, "config");
        requireNonNull(context, "context");
        check(config, "", Set.of("stat_prefix", "settings", "latency_in_micros", "prefix_routes",
                        "downstream_auth_password", "downstream_auth_passwords", "downstream_auth_username",
                        "custom_commands"),
                Map.of());
        Builder b = new Builder();
        if (config.getStatPrefix().isEmpty()) {
            throw ConfigException.at("stat_prefix", "\"\" (expected: a non-empty string)");
        }
        b.statPrefix = config.getStatPrefix();

        if (!config.hasSettings()) {
            throw ConfigException.at("settings", "missing (expected: settings with op_timeout)");
        }
        ConnPoolSettings s = config.getSettings();
        check(s, "settings.", Set.of("op_timeout", "enable_hashtagging", "max_buffer_size_before_flush",
                        "buffer_flush_timeout", "enable_redirection"),
                Map.of("max_upstream_unknown_connections", "it bounds connections to hosts learned from redirections, "
                                + "which Legate does not follow",
                        "read_policy", "it applies to Redis Cluster (envoy.clusters.redis), which Legate does not have",
                        "enable_command_stats", "per-cluster upstream command stats are not implemented"));
        if (s.getEnableRedirection()) {
            throw ConfigException.at("settings.enable_redirection", "true is not supported yet "
                    + "(MOVED/ASK replies are passed to the client unchanged)");
        }
        if (!s.hasOpTimeout()) {
            throw ConfigException.at("settings.op_timeout", "missing (expected: a duration > 0s)");
        }
        b.opTimeoutMillis = millis(s.getOpTimeout(), "settings.op_timeout");
        if (b.opTimeoutMillis <= 0) {
            throw ConfigException.at("settings.op_timeout", "0s (expected: > 0s)");
        }
        b.hashtagging = s.getEnableHashtagging();
        b.maxBufferSizeBeforeFlush = (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(s.getMaxBufferSizeBeforeFlush()));
        if (s.hasBufferFlushTimeout()) {
            b.bufferFlushTimeoutMillis = Math.max(1, millis(s.getBufferFlushTimeout(), "settings.buffer_flush_timeout"));
        }
        b.latencyInMicros = config.getLatencyInMicros();

        if (config.hasPrefixRoutes()) {
            PrefixRoutes pr = config.getPrefixRoutes();
            check(pr, "prefix_routes.", Set.of("routes", "case_insensitive", "catch_all_route"), Map.of());
            b.caseInsensitive = pr.getCaseInsensitive();
            Map<String, Integer> seen = new HashMap<>();
            for (int i = 0; i < pr.getRoutesCount(); i++) {
                String path = "prefix_routes.routes[" + i + "]";
                Route r = route(pr.getRoutes(i), path, context);
                String norm = b.caseInsensitive ? RedisCommands.lower(r.prefix()) : r.prefix();
                Integer other = seen.putIfAbsent(norm, i);
                if (other != null) {
                    throw ConfigException.at(path + ".prefix", "\"" + pr.getRoutes(i).getPrefix()
                            + "\" (expected: a unique prefix; prefix_routes.routes[" + other + "] has it too)");
                }
                b.routes.add(r);
            }
            b.routes.sort(Comparator.comparingInt((Route r) -> r.prefix().length()).reversed());
            if (pr.hasCatchAllRoute()) {
                b.catchAll = route(pr.getCatchAllRoute(), "prefix_routes.catch_all_route", context);
            }
        }
        if (b.routes.isEmpty() && b.catchAll == null) {
            log.warn("envoy.filters.network.redis_proxy {}: no prefix_routes.routes and no catch_all_route: "
                    + "every command will be answered \"no upstream host\"", b.statPrefix);
        }

        if (config.hasDownstreamAuthPassword()) {
            b.passwords.add(bytes(dataSource(config.getDownstreamAuthPassword(), "downstream_auth_password", context)));
        }
        for (int i = 0; i < config.getDownstreamAuthPasswordsCount(); i++) {
            b.passwords.add(bytes(dataSource(config.getDownstreamAuthPasswords(i),
                    "downstream_auth_passwords[" + i + "]", context)));
        }
        if (config.hasDownstreamAuthUsername()) {
            b.username = bytes(dataSource(config.getDownstreamAuthUsername(), "downstream_auth_username", context));
        }

        Set<String> commands = new HashSet<>();
        commands.addAll(RedisCommands.SIMPLE);
        commands.addAll(RedisCommands.EVAL);
        commands.addAll(RedisCommands.SUM_RESULT);
        commands.addAll(RedisCommands.TRANSACTION);
        commands.add(RedisCommands.MGET);
        commands.add(RedisCommands.MSET);
        for (int i = 0; i < config.getCustomCommandsCount(); i++) {
            String c = RedisCommands.lower(config.getCustomCommands(i));
            if (c.isEmpty()) {
                throw ConfigException.at("custom_commands[" + i + "]", "\"\" (expected: a command name)");
            }
            b.customCommands.add(c);
            commands.add(c);
        }
        b.stats = RedisProxyStats.create(context.stats(), b.statPrefix, commands);
        return new RedisProxySettings(b);
    }

    private static Route route(PrefixRoutes.Route r, String path, FactoryContext context) {
        check(r, path + ".", Set.of("prefix", "remove_prefix", "cluster", "request_mirror_policy", "key_formatter",
                "read_command_policy"), Map.of());
        if (r.getCluster().isEmpty()) {
            throw ConfigException.at(path + ".cluster", "\"\" (expected: a non-empty cluster name)");
        }
        if (r.getPrefix().getBytes(StandardCharsets.UTF_8).length > 1000) {
            throw ConfigException.at(path + ".prefix", r.getPrefix().length() + " bytes (expected: <= 1000)");
        }
        warnUnknownCluster(r.getCluster(), path + ".cluster", context);
        String readCluster = null;
        if (r.hasReadCommandPolicy()) {
            check(r.getReadCommandPolicy(), path + ".read_command_policy.", Set.of("cluster"), Map.of());
            readCluster = r.getReadCommandPolicy().getCluster();
            if (readCluster.isEmpty()) {
                throw ConfigException.at(path + ".read_command_policy.cluster", "\"\" (expected: a non-empty cluster name)");
            }
            warnUnknownCluster(readCluster, path + ".read_command_policy.cluster", context);
        }
        String formatter = r.getKeyFormatter();
        if (!formatter.isEmpty() && !formatter.replace("%KEY%", "").chars().noneMatch(c -> c == '%')) {
            throw ConfigException.at(path + ".key_formatter", "\"" + formatter
                    + "\" is not supported yet (supported: %KEY% and literal text)");
        }
        List<Mirror> mirrors = new ArrayList<>();
        for (int i = 0; i < r.getRequestMirrorPolicyCount(); i++) {
            var m = r.getRequestMirrorPolicy(i);
            String mp = path + ".request_mirror_policy[" + i + "]";
            check(m, mp + ".", Set.of("cluster", "runtime_fraction", "exclude_read_commands"), Map.of());
            if (m.getCluster().isEmpty()) {
                throw ConfigException.at(mp + ".cluster", "\"\" (expected: a non-empty cluster name)");
            }
            warnUnknownCluster(m.getCluster(), mp + ".cluster", context);
            long num = 1;
            long den = 1;
            if (m.hasRuntimeFraction()) {
                RuntimeFractionalPercent rf = m.getRuntimeFraction();
                if (!rf.getRuntimeKey().isEmpty()) {
                    log.warn("{}.runtime_fraction.runtime_key: runtime is not supported yet, using default_value", mp);
                }
                FractionalPercent fp = rf.getDefaultValue();
                num = Integer.toUnsignedLong(fp.getNumerator());
                den = switch (fp.getDenominator()) {
                    case HUNDRED -> 100;
                    case TEN_THOUSAND -> 10_000;
                    case MILLION -> 1_000_000;
                    default -> throw ConfigException.at(mp + ".runtime_fraction.default_value.denominator", "unknown value");
                };
            }
            mirrors.add(new Mirror(m.getCluster(), num, den, m.getExcludeReadCommands()));
        }
        return new Route(bytes(r.getPrefix()), r.getRemovePrefix(), r.getCluster(), readCluster,
                List.copyOf(mirrors), formatter.isEmpty() ? null : bytes(formatter));
    }

    private static void warnUnknownCluster(String name, String path, FactoryContext context) {
        if (context.clusterManager() != null && context.clusterManager().cluster(name) == null) {
            log.warn("{}: cluster \"{}\" does not exist: its commands will be answered \"no upstream host\"", path, name);
        }
    }

    /** Rejects set fields of {@code m} outside {@code used}, warns about {@code ignored} ones (with why). */
    private static void check(Message m, String prefix, Set<String> used, Map<String, String> ignored) {
        for (FieldDescriptor f : m.getAllFields().keySet()) {
            String name = f.getName();
            if (used.contains(name)) {
                continue;
            }
            String why = ignored.get(name);
            if (why != null) {
                log.warn("envoy.filters.network.redis_proxy: {}{} is ignored: {}", prefix, name, why);
                continue;
            }
            throw ConfigException.at(prefix + name, "not supported yet");
        }
    }

    private static String dataSource(DataSource ds, String path, FactoryContext context) {
        return DataSources.read(ds, context.configDirectory(), path, false);
    }

    private static long millis(Duration d, String path) {
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw ConfigException.at(path, d.getSeconds() + "s " + d.getNanos() + "ns (expected: >= 0s)");
        }
        long ms = Math.multiplyExact(d.getSeconds(), 1000L) + d.getNanos() / 1_000_000;
        return ms == 0 && d.getNanos() > 0 ? 1 : ms;
    }
}
