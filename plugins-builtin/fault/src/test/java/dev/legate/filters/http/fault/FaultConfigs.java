package dev.legate.filters.http.fault;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/** Test helpers: {@code HTTPFault} from YAML (as the host reads it: YAML → JSON → JsonFormat), captured warnings. */
final class FaultConfigs {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private FaultConfigs() {
    }

    /** Parses an {@code HTTPFault} written in YAML; unknown fields fail. */
    static HTTPFault yaml(String yaml) {
        try {
            String json = JSON.writeValueAsString(YAML.readTree(yaml));
            HTTPFault.Builder b = HTTPFault.newBuilder();
            JsonFormat.parser().merge(json, b);
            return b.build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Compiles a YAML {@code HTTPFault} into settings. */
    static FaultSettings settings(String yaml) {
        return FaultSettings.from(yaml(yaml), "test");
    }

    /** Runs {@code action} and returns the messages logged by {@link FaultSettings} and the factory meanwhile. */
    static <T> List<String> logged(Supplier<T> action) {
        Logger settingsLogger = (Logger) LoggerFactory.getLogger(FaultSettings.class);
        Logger factoryLogger = (Logger) LoggerFactory.getLogger(FaultFilterFactory.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        settingsLogger.addAppender(appender);
        factoryLogger.addAppender(appender);
        try {
            action.get();
        } finally {
            settingsLogger.detachAppender(appender);
            factoryLogger.detachAppender(appender);
        }
        return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }
}
