package dev.legate.filters.network.httpconnectionmanager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.TextFormat;
import dev.legate.api.ConfigException;
import dev.legate.api.http.CodecType;
import dev.legate.api.http.HttpConnectionManagerConfig;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterInstaller;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Config tier: Envoy's HttpConnectionManager (text format) → settings, and each error message. */
class HttpConnectionManagerConfigTest {

    static final String ROUTER = "http_filters { name: 'envoy.filters.http.router' typed_config { "
            + "type_url: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } } ";
    static final String HEADER = "http_filters { name: 'legate.test.header' typed_config { "
            + "type_url: 'type.googleapis.com/legate.test.Header' } } ";
    static final String ROUTES = "route_config { virtual_hosts { name: 'vh' domains: '*' "
            + "routes { match { prefix: '/' } route { cluster: 'backend' } } } } ";

    static HttpConnectionManager parse(String text) {
        try {
            return TextFormat.parse(text, HttpConnectionManager.class);
        } catch (TextFormat.ParseException e) {
            throw new AssertionError(e);
        }
    }

    static HttpConnectionManagerSettings settings(String text) {
        return HttpConnectionManagerFilterFactory.settings(parse(text), TestContexts.create("backend"));
    }

    static String error(String text) {
        try {
            settings(text);
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a ConfigException for: " + text);
    }

    @Test
    void defaultsFollowEnvoy() {
        HttpConnectionManagerSettings s = settings("stat_prefix: 'ingress' " + ROUTES + HEADER + ROUTER);

        assertThat(s.codecType()).isEqualTo(CodecType.AUTO);
        assertThat(s.maxRequestHeadersBytes()).isEqualTo(60 * 1024);
        assertThat(s.maxHeadersCount()).isEqualTo(100);
        assertThat(s.streamIdleTimeoutMillis()).isEqualTo(300_000);
        assertThat(s.requestTimeoutMillis()).isZero();
        assertThat(s.connectionIdleTimeoutMillis()).isEqualTo(3_600_000);
        assertThat(s.proxy100Continue()).isFalse();
        assertThat(s.stats().prefix()).isEqualTo("http.ingress.");
        assertThat(s.filterChain()).extracting(HttpFilterChainEntry::name)
                .containsExactly("legate.test.header", "envoy.filters.http.router");
    }

    @Test
    void setFieldsAreHonoured() {
        HttpConnectionManagerSettings s = settings("stat_prefix: 'x' codec_type: HTTP1 " + ROUTES + ROUTER
                + "max_request_headers_kb { value: 8 } stream_idle_timeout { seconds: 2 } "
                + "request_timeout { nanos: 500000000 } "
                + "common_http_protocol_options { idle_timeout { seconds: 7 } max_headers_count { value: 20 } }");

        assertThat(s.codecType()).isEqualTo(CodecType.HTTP1);
        assertThat(s.maxRequestHeadersBytes()).isEqualTo(8 * 1024);
        assertThat(s.streamIdleTimeoutMillis()).isEqualTo(2000);
        assertThat(s.requestTimeoutMillis()).isEqualTo(500);
        assertThat(s.connectionIdleTimeoutMillis()).isEqualTo(7000);
        assertThat(s.maxHeadersCount()).isEqualTo(20);
    }

    @Test
    void createHandsTheSettingsToTheHostAndBuildsFiltersUnderTheHttpScope() {
        AtomicReference<HttpConnectionManagerConfig> given = new AtomicReference<>();
        TestFactoryContext ctx = TestContexts.create("backend").httpService(config -> {
            given.set(config);
            return callbacks -> new NetworkFilter() { };
        });
        HttpConnectionManager config = parse("stat_prefix: 'ingress' " + ROUTES + HEADER + ROUTER
                + "access_log { name: 'envoy.access_loggers.stdout' }");

        NetworkFilterInstaller installer = new HttpConnectionManagerFilterFactory().create(config, ctx);

        assertThat(installer).isNotNull();
        assertThat(given.get()).isInstanceOf(HttpConnectionManagerSettings.class);
        assertThat(ctx.httpFilterRequests()).extracting(TestFactoryContext.HttpFilterRequest::statsPrefix)
                .containsExactly("http.ingress.", "http.ingress.");
        assertThat(ctx.accessLogRequests()).extracting(TestFactoryContext.AccessLogRequest::path)
                .containsExactly("access_log");
    }

    @Test
    void factoryDeclaresEnvoysNameTypeAndTerminal() {
        HttpConnectionManagerFilterFactory f = new HttpConnectionManagerFilterFactory();
        assertThat(f.name()).isEqualTo("envoy.filters.network.http_connection_manager");
        assertThat(f.configType().typeUrl()).isEqualTo("type.googleapis.com/"
                + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
        assertThat(f.isTerminal()).isTrue();
    }

    @Test
    void statPrefixIsRequired() {
        assertThat(error(ROUTES + ROUTER)).isEqualTo("stat_prefix: \"\" (expected: non-empty)");
    }

    @Test
    void http3IsNotSupportedYet() {
        assertThat(settings("stat_prefix: 'x' codec_type: HTTP2 " + ROUTES + ROUTER).codecType())
                .isEqualTo(CodecType.HTTP2);
        assertThat(error("stat_prefix: 'x' codec_type: HTTP3 " + ROUTES + ROUTER))
                .isEqualTo("codec_type: HTTP3 is not supported yet");
    }

    @Test
    void rdsAndScopedRoutesAreNotSupportedYet() {
        assertThat(error("stat_prefix: 'x' rds { route_config_name: 'r' } " + ROUTER))
                .isEqualTo("rds: not supported yet");
        assertThat(error("stat_prefix: 'x' " + ROUTER)).startsWith("route_config: missing");
    }

    @Test
    void behaviourChangingFieldsAreErrorsAndHarmlessOnesAreAccepted() {
        assertThat(error("stat_prefix: 'x' tracing { } " + ROUTES + ROUTER)).isEqualTo("tracing: not supported yet");
        assertThat(error("stat_prefix: 'x' proxy_100_continue: true " + ROUTES + ROUTER))
                .isEqualTo("proxy_100_continue: not supported yet");
        assertThat(error("stat_prefix: 'x' upgrade_configs { upgrade_type: 'websocket' filters { name: 'f' } } "
                + ROUTES + ROUTER)).isEqualTo("upgrade_configs[0].filters: not supported yet");
        assertThat(error("stat_prefix: 'x' local_reply_config { } " + ROUTES + ROUTER))
                .isEqualTo("local_reply_config: not supported yet");
        assertThat(error("stat_prefix: 'x' http2_protocol_options { connection_keepalive { } } "
                + ROUTES + ROUTER)).isEqualTo("http2_protocol_options.connection_keepalive: not supported yet");
        assertThat(error("stat_prefix: 'x' forward_client_cert_details: APPEND_FORWARD "
                + "request_id_extension { } " + ROUTES + ROUTER)).isEqualTo("request_id_extension: not supported yet");
        assertThat(error("stat_prefix: 'x' common_http_protocol_options { max_stream_duration { seconds: 1 } } "
                + ROUTES + ROUTER)).isEqualTo("common_http_protocol_options.max_stream_duration: not supported yet");

        assertThat(settings("stat_prefix: 'x' drain_timeout { seconds: 1 } delayed_close_timeout { seconds: 1 } "
                + ROUTES + ROUTER)).isNotNull();
    }

    @Test
    void terminalFilterMustBeLast() {
        assertThat(error("stat_prefix: 'x' " + ROUTES + ROUTER + HEADER)).isEqualTo("http_filters[0]: "
                + "Error: terminal filter named envoy.filters.http.router of type "
                + "envoy.extensions.filters.http.router.v3.Router must be the last filter in a http filter chain.");
    }

    @Test
    void nonTerminalFilterMayNotBeLast() {
        assertThat(error("stat_prefix: 'x' " + ROUTES + HEADER)).isEqualTo("http_filters[0]: "
                + "Error: non-terminal filter named legate.test.header of type legate.test.Header "
                + "is the last filter in a http filter chain.");
        assertThat(error("stat_prefix: 'x' " + ROUTES)).startsWith("http_filters: [] (expected: at least one filter");
    }

    @Test
    void unknownFilterFailsUnlessOptional() {
        String unknown = "http_filters { name: 'acme.missing' typed_config { type_url: 'type.googleapis.com/acme.M' } ";
        assertThat(error("stat_prefix: 'x' " + ROUTES + unknown + "} " + ROUTER))
                .isEqualTo("http_filters[0].name: no plugin provides HTTP filter acme.missing");

        HttpConnectionManagerSettings s = settings("stat_prefix: 'x' " + ROUTES + unknown + "is_optional: true } "
                + ROUTER);
        assertThat(s.filterChain()).extracting(HttpFilterChainEntry::name).containsExactly("envoy.filters.http.router");
    }

    @Test
    void disabledAndDiscoveredFiltersAreNotSupportedYet() {
        assertThat(error("stat_prefix: 'x' " + ROUTES + "http_filters { name: 'legate.test.header' disabled: true } "
                + ROUTER)).isEqualTo("http_filters[0].disabled: not supported yet");
        assertThat(error("stat_prefix: 'x' " + ROUTES + "http_filters { name: 'legate.test.header' "
                + "config_discovery { } } " + ROUTER)).isEqualTo("http_filters[0].config_discovery: not supported yet");
    }

    @Test
    void limitsAreChecked() {
        assertThat(error("stat_prefix: 'x' max_request_headers_kb { value: 0 } " + ROUTES + ROUTER))
                .isEqualTo("max_request_headers_kb: 0 (expected: > 0 and <= 8192)");
        assertThat(error("stat_prefix: 'x' max_request_headers_kb { value: 9000 } " + ROUTES + ROUTER))
                .isEqualTo("max_request_headers_kb: 9000 (expected: > 0 and <= 8192)");
        assertThat(error("stat_prefix: 'x' stream_idle_timeout { seconds: -1 } " + ROUTES + ROUTER))
                .isEqualTo("stream_idle_timeout: -1s (expected: >= 0)");
        assertThat(error("stat_prefix: 'x' internal_address_config { cidr_ranges { address_prefix: 'nope' } } "
                + ROUTES + ROUTER)).isEqualTo("internal_address_config.cidr_ranges[0].address_prefix: \"nope\" "
                + "(expected: an IPv4 or IPv6 address)");
    }

    @Test
    void routeConfigErrorsNameTheField() {
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'vh' domains: '*' "
                + "routes { match { prefix: '/' } route { cluster: 'nope' } } } }"))
                .isEqualTo("route_config.virtual_hosts[0].routes[0].route.cluster: \"nope\" "
                        + "(expected: a cluster of static_resources.clusters; or set validate_clusters: false)");
        assertThat(settings("stat_prefix: 'x' " + ROUTER + "route_config { validate_clusters { value: false } "
                + "virtual_hosts { name: 'vh' domains: '*' routes { match { prefix: '/' } route { cluster: 'nope' } } } }"))
                .isNotNull();
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: 'x.com' } "
                + "virtual_hosts { name: 'b' domains: 'X.com' } }"))
                .isEqualTo("route_config.virtual_hosts[1].domains[0]: \"x.com\" (expected: unique domains; "
                        + "already in route_config.virtual_hosts[0])");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: 'a*b' } }"))
                .startsWith("route_config.virtual_hosts[0].domains[0]: \"a*b\" (expected: * only");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "routes { match { safe_regex { regex: '(' } } route { cluster: 'backend' } } } }"))
                .startsWith("route_config.virtual_hosts[0].routes[0].match.safe_regex.regex: \"(\" (expected: a valid regex");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "routes { match { prefix: '/' } route { cluster: 'backend' max_grpc_timeout { seconds: -1 } } } } }"))
                .isEqualTo("route_config.virtual_hosts[0].routes[0].route.max_grpc_timeout: -1s (expected: >= 0)");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "routes { match { prefix: '/' } route { cluster: 'backend' prefix_rewrite: '/a' "
                + "regex_rewrite { pattern { regex: 'a' } substitution: 'b' } } } } }"))
                .isEqualTo("route_config.virtual_hosts[0].routes[0].route: both prefix_rewrite and regex_rewrite "
                        + "are set (expected: at most one)");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "routes { match { prefix: '/' } route { cluster: 'backend' request_mirror_policies { cluster: 'b' } } } } }"))
                .isEqualTo("route_config.virtual_hosts[0].routes[0].route.request_mirror_policies: not supported yet");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "routes { match { prefix: '/' } direct_response { status: 99 } } } }"))
                .isEqualTo("route_config.virtual_hosts[0].routes[0].direct_response.status: 99 "
                        + "(expected: >= 200 and < 600)");
    }

    @Test
    void headerRulesMayNotTouchPseudoHeadersOrHostAndVariablesMustBeKnown() {
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { request_headers_to_add { header { "
                + "key: ':path' value: '/x' } } }"))
                .isEqualTo("route_config.request_headers_to_add[0].header.key: \":path\" (expected: not a "
                        + "pseudo-header or host: :-prefixed or host headers may not be modified)");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { response_headers_to_remove: 'Host' }"))
                .isEqualTo("route_config.response_headers_to_remove[0]: \"Host\" (expected: not a pseudo-header or "
                        + "host: :-prefixed or host headers may not be removed)");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'a' domains: '*' "
                + "response_headers_to_add { header { key: 'x-a' value: '%NOPE%' } } } }"))
                .startsWith("route_config.virtual_hosts[0].response_headers_to_add[0].header.value: %NOPE% "
                        + "(expected: a supported variable");
        assertThat(error("stat_prefix: 'x' " + ROUTER + "route_config { request_headers_to_add { header { "
                + "key: 'x-a' value: '50%' } } }"))
                .isEqualTo("route_config.request_headers_to_add[0].header.value: \"50%\" "
                        + "(expected: every % to start a %VARIABLE% or be written %%)");
    }
}
