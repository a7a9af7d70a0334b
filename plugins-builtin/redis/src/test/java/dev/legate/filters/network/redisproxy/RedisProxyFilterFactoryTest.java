package dev.legate.filters.network.redisproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.extensions.filters.network.redis_proxy.v3.RedisProxy;
import org.junit.jupiter.api.Test;

/** Config tier: {@code RedisProxy} → {@link RedisProxySettings}, and each error message. */
class RedisProxyFilterFactoryTest {

    private final TestFactoryContext context = new TestFactoryContext();

    static RedisProxy parse(String json) {
        RedisProxy.Builder b = RedisProxy.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
        return b.build();
    }

    private RedisProxySettings bind(String json) {
        return RedisProxySettings.from(parse(json), context);
    }

    private static final String MINIMAL = """
            {"stat_prefix": "cache", "settings": {"op_timeout": "0.25s"},
             "prefix_routes": {"catch_all_route": {"cluster": "redis"}}}""";

    @Test
    void nameTypeAndTerminal() {
        RedisProxyFilterFactory f = new RedisProxyFilterFactory();
        assertThat(f.name()).isEqualTo("envoy.filters.network.redis_proxy");
        assertThat(f.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy");
        assertThat(f.isTerminal()).isTrue();
    }

    @Test
    void minimal() {
        RedisProxySettings s = bind(MINIMAL);
        assertThat(s.statPrefix()).isEqualTo("cache");
        assertThat(s.opTimeoutMillis()).isEqualTo(250);
        assertThat(s.hashtagging()).isFalse();
        assertThat(s.maxBufferSizeBeforeFlush()).isZero();
        assertThat(s.bufferFlushTimeoutMillis()).isEqualTo(3);
        assertThat(s.authRequired()).isFalse();
        assertThat(s.route("anything").cluster()).isEqualTo("redis");
        // Envoy's stats exist from the start, zero.
        assertThat(context.statsStore().counter("redis.cache.downstream_cx_total")).isZero();
        assertThat(context.statsStore().counter("redis.cache.command.get.total")).isZero();
        assertThat(context.statsStore().counter("redis.cache.splitter.unsupported_command")).isZero();
    }

    @Test
    void prefixRoutesLongestFirstCaseInsensitive() {
        RedisProxySettings s = bind("""
                {"stat_prefix": "p", "settings": {"op_timeout": "1s", "enable_hashtagging": true,
                  "max_buffer_size_before_flush": 1024, "buffer_flush_timeout": "0.01s"},
                 "prefix_routes": {"case_insensitive": true, "routes": [
                   {"prefix": "ab", "cluster": "short"},
                   {"prefix": "abc", "cluster": "long", "remove_prefix": true,
                    "read_command_policy": {"cluster": "replica"},
                    "request_mirror_policy": [{"cluster": "shadow", "exclude_read_commands": true,
                      "runtime_fraction": {"default_value": {"numerator": 50, "denominator": "HUNDRED"}}}]}]},
                 "custom_commands": ["MY.CMD"],
                 "downstream_auth_passwords": [{"inline_string": "a"}, {"inline_string": "b"}],
                 "downstream_auth_username": {"inline_string": "alice"},
                 "latency_in_micros": true}""");
        assertThat(s.route("ABCD").cluster()).isEqualTo("long");
        assertThat(s.route("abx").cluster()).isEqualTo("short");
        assertThat(s.route("x")).isNull();
        RedisProxySettings.Route r = s.route("abc1");
        assertThat(r.removePrefix()).isTrue();
        assertThat(r.clusterFor("get")).isEqualTo("replica");
        assertThat(r.clusterFor("set")).isEqualTo("long");
        assertThat(r.mirrors()).containsExactly(new RedisProxySettings.Mirror("shadow", 50, 100, true));
        assertThat(r.mirrors().get(0).shouldMirror("get")).isFalse();
        assertThat(s.hashtagging()).isTrue();
        assertThat(s.maxBufferSizeBeforeFlush()).isEqualTo(1024);
        assertThat(s.bufferFlushTimeoutMillis()).isEqualTo(10);
        assertThat(s.isCustomCommand("my.cmd")).isTrue();
        assertThat(context.statsStore().counter("redis.p.command.my.cmd.total")).isZero();
        assertThat(s.checkPassword("b")).isTrue();
        assertThat(s.username()).isEqualTo("alice");
        assertThat(s.latencyInMicros()).isTrue();
    }

    @Test
    void errors() {
        assertThatThrownBy(() -> bind("{\"settings\": {\"op_timeout\": \"1s\"}}"))
                .isInstanceOf(ConfigException.class).hasMessage("stat_prefix: \"\" (expected: a non-empty string)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\"}"))
                .hasMessage("settings: missing (expected: settings with op_timeout)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"enable_hashtagging\": true}}"))
                .hasMessage("settings.op_timeout: missing (expected: a duration > 0s)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"0s\"}}"))
                .hasMessage("settings.op_timeout: 0s (expected: > 0s)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\", "
                + "\"enable_redirection\": true}}"))
                .hasMessage("settings.enable_redirection: true is not supported yet "
                        + "(MOVED/ASK replies are passed to the client unchanged)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\", "
                + "\"connection_rate_limit\": {\"connection_rate_limit_per_sec\": 1}}}"))
                .hasMessage("settings.connection_rate_limit: not supported yet");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\"}, "
                + "\"faults\": [{\"fault_type\": \"ERROR\"}]}"))
                .hasMessage("faults: not supported yet");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\"}, "
                + "\"prefix_routes\": {\"routes\": [{\"prefix\": \"a\", \"cluster\": \"c\"}, "
                + "{\"prefix\": \"a\", \"cluster\": \"d\"}]}}"))
                .hasMessage("prefix_routes.routes[1].prefix: \"a\" (expected: a unique prefix; "
                        + "prefix_routes.routes[0] has it too)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\"}, "
                + "\"prefix_routes\": {\"catch_all_route\": {\"cluster\": \"c\", \"key_formatter\": \"%KEY%-%HOSTNAME%\"}}}"))
                .hasMessage("prefix_routes.catch_all_route.key_formatter: \"%KEY%-%HOSTNAME%\" is not supported yet "
                        + "(supported: %KEY% and literal text)");
        assertThatThrownBy(() -> bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\"}, "
                + "\"prefix_routes\": {\"catch_all_route\": {}}}"))
                .hasMessage("prefix_routes.catch_all_route.cluster: \"\" (expected: a non-empty cluster name)");
    }

    @Test
    void redisClusterOnlyFieldsAreWarnedNotRejected() {
        RedisProxySettings s = bind("{\"stat_prefix\": \"x\", \"settings\": {\"op_timeout\": \"1s\", "
                + "\"read_policy\": \"REPLICA\", \"max_upstream_unknown_connections\": 5, \"enable_command_stats\": true}}");
        assertThat(s.statPrefix()).isEqualTo("x");
    }
}
