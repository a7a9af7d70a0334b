package dev.legate.filters.network.mongoproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import dev.legate.testkit.TestFactoryContext;
import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config tier: {@code MongoProxy} → {@link MongoProxySettings}, and each error message. */
class MongoProxyFilterFactoryTest {

    private final TestFactoryContext context = new TestFactoryContext();
    private final MongoProxyFilterFactory factory = new MongoProxyFilterFactory();

    @TempDir
    Path dir;

    @AfterEach
    void close() {
        context.close();
    }

    private static MongoProxy.Builder minimal() {
        return MongoProxy.newBuilder().setStatPrefix("mongo");
    }

    private MongoProxySettings bind(MongoProxy config) {
        return MongoProxySettings.from(config, context);
    }

    /** The config as a user writes it (the JSON of the YAML), parsed by protobuf's JsonFormat as the host does. */
    private static MongoProxy parse(String json) throws Exception {
        MongoProxy.Builder b = MongoProxy.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }

    @Test
    void nameTypeAndNotTerminal() {
        assertThat(factory.name()).isEqualTo("envoy.filters.network.mongo_proxy");
        assertThat(factory.configType().typeUrl())
                .isEqualTo("type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy");
        assertThat(factory.isTerminal()).isFalse();
        assertThat(factory.create(minimal().build(), context)).isNotNull();
    }

    @Test
    void defaults() {
        MongoProxySettings s = bind(minimal().build());
        assertThat(s.statPrefix()).isEqualTo("mongo");
        assertThat(s.accessLogPath()).isNull();
        assertThat(s.delayMillis()).isZero();
        assertThat(s.emitDynamicMetadata()).isFalse();
        assertThat(s.commands()).containsExactlyInAnyOrder("delete", "insert", "update");
        assertThat(s.sampleDelay(new Random(1))).isFalse();
        assertThat(context.statsStore().counterValues()).containsKeys("mongo.mongo.decoding_error",
                "mongo.mongo.delays_injected", "mongo.mongo.op_query", "mongo.mongo.op_msg",
                "mongo.mongo.op_compressed", "mongo.mongo.cx_drain_close");
    }

    @Test
    void everyFieldFromJson() throws Exception {
        Path log = dir.resolve("mongo.log");
        MongoProxySettings s = bind(parse("""
                {"stat_prefix": "orders", "access_log": "%s",
                 "delay": {"fixed_delay": "0.25s", "percentage": {"numerator": 10, "denominator": "TEN_THOUSAND"}},
                 "emit_dynamic_metadata": true, "commands": ["find", "aggregate", "find"]}""".formatted(log)));
        assertThat(s.statPrefix()).isEqualTo("orders");
        assertThat(s.accessLogPath()).isEqualTo(log);
        assertThat(Files.exists(log)).isTrue();
        assertThat(s.delayMillis()).isEqualTo(250);
        assertThat(s.delayNumerator()).isEqualTo(10);
        assertThat(s.delayDenominator()).isEqualTo(10_000);
        assertThat(s.emitDynamicMetadata()).isTrue();
        assertThat(s.commands()).containsExactlyInAnyOrder("find", "aggregate");
    }

    @Test
    void relativeAccessLogResolvesAgainstTheConfigDirectory() {
        context.configDirectory(dir);
        MongoProxySettings s = bind(minimal().setAccessLog("logs.json").build());
        assertThat(s.accessLogPath()).isEqualTo(dir.resolve("logs.json"));
    }

    @Test
    void validateOnlyOpensNoFile() {
        context.validateOnly(true);
        Path log = dir.resolve("never.log");
        MongoProxySettings s = bind(minimal().setAccessLog(log.toString()).build());
        assertThat(s.accessLogPath()).isNull();
        assertThat(Files.exists(log)).isFalse();
    }

    @Test
    void fullPercentageAlwaysDelays() {
        MongoProxySettings s = bind(minimal().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setSeconds(1))
                .setPercentage(FractionalPercent.newBuilder().setNumerator(100))).build());
        assertThat(s.delayMillis()).isEqualTo(1000);
        Random r = new Random(7);
        for (int i = 0; i < 100; i++) {
            assertThat(s.sampleDelay(r)).isTrue();
        }
    }

    @Test
    void headerDelayIsAcceptedAndNeverDelays() {
        MongoProxySettings s = bind(minimal().setDelay(FaultDelay.newBuilder()
                .setHeaderDelay(FaultDelay.HeaderDelay.getDefaultInstance())
                .setPercentage(FractionalPercent.newBuilder().setNumerator(100))).build());
        assertThat(s.delayMillis()).isZero();
        assertThat(s.sampleDelay(new Random(1))).isFalse();
    }

    @Test
    void errors() {
        assertThatThrownBy(() -> bind(MongoProxy.getDefaultInstance()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("stat_prefix: \"\" (expected: a non-empty string)");
        assertThatThrownBy(() -> bind(minimal().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setSeconds(0)).build()).build()))
                .hasMessage("delay.fixed_delay: 0s 0ns (expected: > 0s)");
        assertThatThrownBy(() -> bind(minimal().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setSeconds(-1)).build()).build()))
                .hasMessage("delay.fixed_delay: -1s 0ns (expected: > 0s)");
        assertThatThrownBy(() -> bind(minimal().setDelay(FaultDelay.newBuilder()
                .setPercentage(FractionalPercent.newBuilder().setNumerator(5))).build()))
                .hasMessage("delay: neither fixed_delay nor header_delay is set (expected: one of them)");
        assertThatThrownBy(() -> bind(minimal().setDelay(FaultDelay.newBuilder()
                .setFixedDelay(Duration.newBuilder().setSeconds(1))
                .setPercentage(FractionalPercent.newBuilder().setNumerator(5).setDenominatorValue(7))).build()))
                .hasMessage("delay.percentage.denominator: 7 (expected: HUNDRED, TEN_THOUSAND or MILLION)");
        Path missing = dir.resolve("no/such/dir/mongo.log");
        assertThatThrownBy(() -> bind(minimal().setAccessLog(missing.toString()).build()))
                .hasMessageStartingWith("access_log: \"" + missing + "\" cannot be opened: java.nio.file.NoSuchFileException");
    }
}
