package dev.legate.filters.network.httpconnectionmanager;

import com.google.protobuf.Any;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.CodecType;
import dev.legate.api.http.Http2Options;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import dev.legate.api.stats.Stats;
import dev.legate.filters.network.httpconnectionmanager.route.ConfigFields;
import dev.legate.filters.network.httpconnectionmanager.route.IpAddresses;
import dev.legate.filters.network.httpconnectionmanager.route.RouteTable;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ForwardClientCertDetails;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.InternalAddressConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.ServerHeaderTransformation;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code envoy.filters.network.http_connection_manager}: the terminal network filter that speaks HTTP
 * (Envoy's {@code HttpConnectionManagerFilterConfigFactory}). It validates Envoy's
 * {@code HttpConnectionManager} message, builds the {@code http_filters} through the host (checking that
 * exactly the last one is terminal), compiles the inline {@code route_config}, and returns the host's HTTP
 * connection manager for the resulting {@link HttpConnectionManagerSettings}.
 *
 * <p>Supported: {@code stat_prefix}, {@code codec_type} AUTO/HTTP1/HTTP2 (h2c; AUTO sniffs the HTTP/2
 * preface), {@code http2_protocol_options} (see {@link #http2Options}), {@code drain_timeout}, inline
 * {@code route_config},
 * {@code http_filters} (with {@code is_optional}), {@code access_log}, {@code generate_request_id},
 * {@code preserve_external_request_id}, {@code always_set_request_id_in_response},
 * {@code use_remote_address}, {@code xff_num_trusted_hops}, {@code skip_xff_append}, {@code via},
 * {@code server_name}, {@code server_header_transformation}, {@code stream_idle_timeout},
 * {@code request_timeout}, {@code max_request_headers_kb}, {@code common_http_protocol_options.idle_timeout}
 * and {@code .max_headers_count}, {@code proxy_100_continue}, {@code internal_address_config.cidr_ranges},
 * {@code merge_slashes}, {@code normalize_path} (dot segments only), {@code strip_any_host_port},
 * {@code strip_matching_host_port}, {@code strip_trailing_host_dot}, {@code add_user_agent},
 * {@code forward_client_cert_details} (no TLS: the header is removed unless ALWAYS_FORWARD_ONLY),
 * {@code upgrade_configs} ({@code upgrade_type}, {@code enabled}; no custom {@code filters}, no CONNECT). Any other
 * field set is a {@link ConfigException} {@code <field>: not supported yet} when it changes behaviour, or a
 * WARN log when it cannot. Stateless: nothing mutable lives here.
 */
@Extension
public final class HttpConnectionManagerFilterFactory implements NetworkFilterFactory<HttpConnectionManager> {

    private static final Logger logger = LoggerFactory.getLogger(HttpConnectionManagerFilterFactory.class);

    /** The filter name. */
    public static final String NAME = "envoy.filters.network.http_connection_manager";

    private static final Set<String> HANDLED = Set.of("codec_type", "stat_prefix", "route_config", "rds",
            "scoped_routes", "http_filters", "access_log", "generate_request_id", "preserve_external_request_id",
            "always_set_request_id_in_response", "use_remote_address", "xff_num_trusted_hops", "skip_xff_append",
            "via", "server_name", "server_header_transformation", "stream_idle_timeout", "request_timeout",
            "max_request_headers_kb", "common_http_protocol_options", "proxy_100_continue",
            "internal_address_config", "normalize_path", "merge_slashes", "strip_any_host_port",
            "strip_matching_host_port", "strip_trailing_host_dot", "add_user_agent", "forward_client_cert_details",
            "path_with_escaped_slashes_action", "stream_error_on_invalid_http_message", "http_protocol_options",
            "http2_protocol_options", "drain_timeout", "upgrade_configs");

    /** Fields that cannot change what a client sees over cleartext HTTP/1.1 in Legate today. */
    private static final Set<String> HARMLESS = Set.of("delayed_close_timeout",
            "set_current_client_cert_details", "append_local_overload", "add_proxy_protocol_connection_state",
            "http1_safe_max_connection_duration");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ConfigType<HttpConnectionManager> configType() {
        return ConfigType.proto(HttpConnectionManager.getDefaultInstance());
    }

    @Override
    public boolean isTerminal() {
        return true;
    }

    @Override
    public NetworkFilterInstaller create(HttpConnectionManager config, FactoryContext context) {
        return context.http().connectionManager(settings(config, context));
    }

    /**
     * Validates {@code config} and compiles it (also what {@link #create} hands the host).
     *
     * @throws ConfigException naming the first field Legate cannot run
     */
    public static HttpConnectionManagerSettings settings(HttpConnectionManager config, FactoryContext context) {
        ConfigFields.check(config, "", HANDLED, HARMLESS);

        String statPrefix = config.getStatPrefix();
        if (statPrefix.isEmpty()) {
            throw ConfigException.at("stat_prefix", "\"\" (expected: non-empty)");
        }
        if (config.getProxy100Continue()) {
            // Relaying the upstream's 100 needs a 1xx path through the filters (Envoy's encode1xxHeaders),
            // which the SPI does not have yet; answering 100 here (the default) works with every client.
            throw ConfigFields.unsupported("proxy_100_continue");
        }
        CodecType codec = switch (config.getCodecType()) {
            case AUTO -> CodecType.AUTO;
            case HTTP1 -> CodecType.HTTP1;
            case HTTP2 -> CodecType.HTTP2;
            case HTTP3 -> throw ConfigException.at("codec_type", config.getCodecType() + " is not supported yet");
            default -> throw ConfigException.at("codec_type", "unknown value");
        };

        switch (config.getRouteSpecifierCase()) {
            case RDS -> throw ConfigFields.unsupported("rds");
            case SCOPED_ROUTES -> throw ConfigFields.unsupported("scoped_routes");
            case ROUTESPECIFIER_NOT_SET -> throw ConfigException.at("route_config",
                    "missing (expected: an inline route_config; rds and scoped_routes are not supported yet)");
            default -> { }
        }
        if (config.hasHttpProtocolOptions()) {
            ConfigFields.check(config.getHttpProtocolOptions(), "http_protocol_options", Set.of(), Set.of());
        }
        Http2Options http2 = config.hasHttp2ProtocolOptions()
                ? http2Options(config.getHttp2ProtocolOptions(), "http2_protocol_options") : Http2Options.DEFAULTS;
        long drainTimeout = config.hasDrainTimeout()
                ? ConfigFields.millis(config.getDrainTimeout(), "drain_timeout") : 5000;
        if (config.hasStreamErrorOnInvalidHttpMessage() && config.getStreamErrorOnInvalidHttpMessage().getValue()) {
            throw ConfigFields.unsupported("stream_error_on_invalid_http_message");
        }
        PathWithEscapedSlashesAction escaped = config.getPathWithEscapedSlashesAction();
        if (escaped != PathWithEscapedSlashesAction.IMPLEMENTATION_SPECIFIC_DEFAULT
                && escaped != PathWithEscapedSlashesAction.KEEP_UNCHANGED) {
            throw ConfigException.at("path_with_escaped_slashes_action", escaped + " is not supported yet");
        }
        ForwardClientCertDetails fcc = config.getForwardClientCertDetails();
        if (fcc == ForwardClientCertDetails.UNRECOGNIZED) {
            throw ConfigException.at("forward_client_cert_details", "unknown value");
        }
        ServerHeaderTransformation serverTransformation = config.getServerHeaderTransformation();
        if (serverTransformation == ServerHeaderTransformation.UNRECOGNIZED) {
            throw ConfigException.at("server_header_transformation", "unknown value");
        }

        int maxHeadersBytes = 60 * 1024;
        if (config.hasMaxRequestHeadersKb()) {
            int kb = config.getMaxRequestHeadersKb().getValue();
            if (kb <= 0 || kb > 8192) {
                throw ConfigException.at("max_request_headers_kb", Integer.toUnsignedString(kb)
                        + " (expected: > 0 and <= 8192)");
            }
            maxHeadersBytes = kb * 1024;
        }
        int maxHeadersCount = 100;
        long connectionIdle = 3_600_000;
        if (config.hasCommonHttpProtocolOptions()) {
            HttpProtocolOptions c = config.getCommonHttpProtocolOptions();
            ConfigFields.check(c, "common_http_protocol_options", Set.of("idle_timeout", "max_headers_count"), Set.of());
            if (c.hasMaxHeadersCount()) {
                maxHeadersCount = c.getMaxHeadersCount().getValue();
                if (maxHeadersCount < 1) {
                    throw ConfigException.at("common_http_protocol_options.max_headers_count",
                            Integer.toUnsignedString(maxHeadersCount) + " (expected: >= 1)");
                }
            }
            if (c.hasIdleTimeout()) {
                connectionIdle = ConfigFields.millis(c.getIdleTimeout(), "common_http_protocol_options.idle_timeout");
            }
        }
        long streamIdle = config.hasStreamIdleTimeout()
                ? ConfigFields.millis(config.getStreamIdleTimeout(), "stream_idle_timeout") : 300_000;
        long requestTimeout = config.hasRequestTimeout()
                ? ConfigFields.millis(config.getRequestTimeout(), "request_timeout") : 0;

        List<IpAddresses.Cidr> internal = null;
        if (config.hasInternalAddressConfig()) {
            InternalAddressConfig iac = config.getInternalAddressConfig();
            ConfigFields.check(iac, "internal_address_config", Set.of("cidr_ranges"), Set.of("unix_sockets"));
            if (iac.getCidrRangesCount() > 0) {
                internal = new ArrayList<>();
                for (int i = 0; i < iac.getCidrRangesCount(); i++) {
                    var r = iac.getCidrRanges(i);
                    internal.add(IpAddresses.Cidr.of(r.getAddressPrefix(), r.getPrefixLen().getValue(),
                            "internal_address_config.cidr_ranges[" + i + "]"));
                }
            }
        }
        boolean normalizePath = config.hasNormalizePath() && config.getNormalizePath().getValue();
        if (normalizePath) {
            logger.warn("normalize_path: only dot segments are removed; percent-decoding of unreserved characters "
                    + "and backslash conversion are not supported yet");
        }
        boolean stripMatching = config.getStripMatchingHostPort();
        boolean stripAny = config.getStripAnyHostPort();
        if (stripMatching && stripAny) {
            throw ConfigException.at("strip_any_host_port",
                    "true (expected: not both strip_matching_host_port and strip_any_host_port)");
        }

        Stats httpStats = context.stats().scope("http." + statPrefix);
        FactoryContext filterContext = context.withStats(httpStats);
        List<HttpFilterChainEntry> chain = httpFilters(config.getHttpFiltersList(), filterContext);
        RouteTable routes = RouteTable.compile(config.getRouteConfig(), "route_config", filterContext);
        AccessLogger accessLogger = config.getAccessLogCount() == 0 ? AccessLogger.NONE
                : context.accessLogger(config.getAccessLogList(), "access_log");

        String via = config.getVia().isEmpty() ? null : config.getVia();
        String serverName = config.getServerName().isEmpty() ? "envoy" : config.getServerName();
        String userAgent = config.hasAddUserAgent() && config.getAddUserAgent().getValue()
                ? context.serviceCluster() : null;

        return new HttpConnectionManagerSettings(new HttpConnectionManagerSettings.Options(
                httpStats, codec, maxHeadersBytes, maxHeadersCount, streamIdle, requestTimeout, connectionIdle,
                config.getProxy100Continue(), chain, routes, accessLogger,
                config.hasUseRemoteAddress() && config.getUseRemoteAddress().getValue(),
                // uint32: a value past 2^31 trusts more hops than any header holds.
                config.getXffNumTrustedHops() < 0 ? Integer.MAX_VALUE : config.getXffNumTrustedHops(),
                config.getSkipXffAppend(), via,
                !config.hasGenerateRequestId() || config.getGenerateRequestId().getValue(),
                config.getPreserveExternalRequestId(), config.getAlwaysSetRequestIdInResponse(),
                serverName, serverTransformation, internal, normalizePath, config.getMergeSlashes(),
                stripAny, stripMatching, config.getStripTrailingHostDot(),
                fcc != ForwardClientCertDetails.ALWAYS_FORWARD_ONLY,
                userAgent, context.serviceNode()), http2, drainTimeout, upgradeConfigs(config));
    }

    /** {@code http2_protocol_options} fields Legate implements; the rest below are refused or logged. */
    private static final Set<String> HTTP2_HANDLED = Set.of("hpack_table_size", "max_concurrent_streams",
            "initial_stream_window_size", "initial_connection_window_size", "allow_connect", "allow_metadata",
            "override_stream_error_on_invalid_http_message", "stream_error_on_invalid_http_messaging");

    /** Flood limits (Netty's codec applies its own), codec choice and metadata size: cannot change a reply. */
    private static final Set<String> HTTP2_HARMLESS = Set.of("max_outbound_frames", "max_outbound_control_frames",
            "max_consecutive_inbound_frames_with_empty_payload", "max_inbound_priority_frames_per_stream",
            "max_inbound_window_update_frames_per_data_frame_sent", "use_oghttp2_codec", "max_metadata_size");

    /**
     * The HCM's {@code http2_protocol_options} (Envoy's {@code config.core.v3.Http2ProtocolOptions}) with Envoy's
     * ranges; unset fields keep {@link Http2Options#DEFAULTS} ({@code max_concurrent_streams} 1024).
     * {@code connection_keepalive}, {@code custom_settings_parameters} and {@code allow_metadata: true} are
     * refused. Legate resets only the offending stream on invalid HTTP/2 messaging (Envoy's
     * {@code override_stream_error_on_invalid_http_message: true}); {@code false} is logged.
     */
    static Http2Options http2Options(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions o, String path) {
        ConfigFields.check(o, path, HTTP2_HANDLED, HTTP2_HARMLESS);
        Http2Options d = Http2Options.DEFAULTS;
        long maxStreams = d.maxConcurrentStreams();
        if (o.hasMaxConcurrentStreams()) {
            maxStreams = Integer.toUnsignedLong(o.getMaxConcurrentStreams().getValue());
            if (maxStreams < 1 || maxStreams > Integer.MAX_VALUE) {
                throw ConfigException.at(path + ".max_concurrent_streams", maxStreams
                        + " (expected: >= 1 and <= 2147483647)");
            }
        }
        int streamWindow = window(o.hasInitialStreamWindowSize(), o.getInitialStreamWindowSize().getValue(),
                d.initialStreamWindowSize(), path + ".initial_stream_window_size");
        int connectionWindow = window(o.hasInitialConnectionWindowSize(),
                o.getInitialConnectionWindowSize().getValue(), d.initialConnectionWindowSize(),
                path + ".initial_connection_window_size");
        long hpack = o.hasHpackTableSize() ? Integer.toUnsignedLong(o.getHpackTableSize().getValue())
                : d.hpackTableSize();
        if (o.getAllowMetadata()) {
            throw ConfigFields.unsupported(path + ".allow_metadata");
        }
        boolean streamError = o.hasOverrideStreamErrorOnInvalidHttpMessage()
                ? o.getOverrideStreamErrorOnInvalidHttpMessage().getValue() : o.getStreamErrorOnInvalidHttpMessaging();
        if (!streamError && (o.hasOverrideStreamErrorOnInvalidHttpMessage() || o.getStreamErrorOnInvalidHttpMessaging())) {
            logger.warn("{}.override_stream_error_on_invalid_http_message: false is not supported yet; "
                    + "Legate resets only the offending stream", path);
        }
        return new Http2Options(maxStreams, streamWindow, connectionWindow, o.getAllowConnect(), hpack);
    }

    private static int window(boolean set, int value, int dflt, String path) {
        if (!set) {
            return dflt;
        }
        long v = Integer.toUnsignedLong(value);
        if (v < 65_535 || v > Integer.MAX_VALUE) {
            throw ConfigException.at(path, v + " (expected: >= 65535 and <= 2147483647)");
        }
        return (int) v;
    }

    /**
     * {@code upgrade_configs}: upgrade type (lower case) to {@code enabled} (default true). A custom
     * {@code filters} chain and CONNECT are not supported yet; a type listed twice is an error, as in Envoy.
     */
    static Map<String, Boolean> upgradeConfigs(HttpConnectionManager config) {
        Map<String, Boolean> upgrades = new LinkedHashMap<>();
        for (int i = 0; i < config.getUpgradeConfigsCount(); i++) {
            UpgradeConfig u = config.getUpgradeConfigs(i);
            String path = "upgrade_configs[" + i + "]";
            ConfigFields.check(u, path, Set.of("upgrade_type", "enabled"), Set.of());
            String type = u.getUpgradeType().trim().toLowerCase(Locale.ROOT);
            if (type.isEmpty()) {
                throw ConfigException.at(path + ".upgrade_type", "\"\" (expected: non-empty, e.g. websocket)");
            }
            if (type.equals("connect")) {
                throw ConfigException.at(path + ".upgrade_type", ConfigFields.quote(u.getUpgradeType())
                        + " is not supported yet");
            }
            if (upgrades.put(type, !u.hasEnabled() || u.getEnabled().getValue()) != null) {
                throw ConfigException.at(path + ".upgrade_type", "Error: multiple upgrade configs with the same name: '"
                        + type + "'");
            }
        }
        return upgrades;
    }

    /** Builds {@code http_filters} in order and checks Envoy's terminal-filter rule. */
    private static List<HttpFilterChainEntry> httpFilters(List<HttpFilter> filters, FactoryContext context) {
        List<HttpFilterChainEntry> chain = new ArrayList<>(filters.size());
        List<String> paths = new ArrayList<>(filters.size());
        List<String> types = new ArrayList<>(filters.size());
        for (int i = 0; i < filters.size(); i++) {
            HttpFilter f = filters.get(i);
            String path = "http_filters[" + i + "]";
            ConfigFields.check(f, path, Set.of("name", "typed_config", "is_optional"), Set.of());
            if (f.getName().isEmpty()) {
                throw ConfigException.at(path + ".name", "\"\" (expected: non-empty)");
            }
            Any typedConfig = f.hasTypedConfig() ? f.getTypedConfig() : Any.getDefaultInstance();
            HttpFilterChainEntry entry;
            try {
                entry = context.httpFilter(f.getName(), typedConfig, path);
            } catch (ConfigException e) {
                if (f.getIsOptional() && e.getMessage() != null && e.getMessage().contains("no plugin provides")) {
                    logger.warn("{}: optional HTTP filter {} skipped: {}", path, f.getName(), e.getMessage());
                    continue;
                }
                throw e;
            }
            chain.add(entry);
            paths.add(path);
            types.add(typeName(typedConfig));
        }
        if (chain.isEmpty()) {
            throw ConfigException.at("http_filters", "[] (expected: at least one filter, the last one terminal, "
                    + "such as envoy.filters.http.router)");
        }
        for (int i = 0; i < chain.size(); i++) {
            HttpFilterChainEntry e = chain.get(i);
            boolean last = i == chain.size() - 1;
            if (e.terminal() && !last) {
                throw ConfigException.at(paths.get(i), "Error: terminal filter named " + e.name() + " of type "
                        + types.get(i) + " must be the last filter in a http filter chain.");
            }
            if (!e.terminal() && last) {
                throw ConfigException.at(paths.get(i), "Error: non-terminal filter named " + e.name() + " of type "
                        + types.get(i) + " is the last filter in a http filter chain.");
            }
        }
        return chain;
    }

    /** The message name of an {@code Any}'s {@code @type} (after the last {@code /}). */
    private static String typeName(Any any) {
        String url = any.getTypeUrl();
        return url.substring(url.lastIndexOf('/') + 1);
    }
}
