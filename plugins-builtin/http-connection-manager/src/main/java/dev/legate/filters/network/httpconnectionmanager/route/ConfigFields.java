package dev.legate.filters.network.httpconnectionmanager.route;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.legate.api.ConfigException;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that every field set in a config message is one Legate runs, so that nothing is silently ignored
 * (DESIGN §1.1): a field that would change behaviour is a {@link ConfigException}
 * {@code <path>: not supported yet}; a harmless one is logged at WARN. Also small conversions shared by the
 * HCM and the route table. Stateless; called on the main thread while a config is bound.
 */
public final class ConfigFields {

    private static final Logger logger = LoggerFactory.getLogger(ConfigFields.class);

    private ConfigFields() {
    }

    /**
     * Walks the fields set in {@code message}.
     *
     * @param path     where {@code message} sits, e.g. {@code route_config.virtual_hosts[0]}; {@code ""} at the top
     * @param handled  fields the caller implements
     * @param harmless fields that cannot change what a client sees; logged at WARN
     * @throws ConfigException naming the first set field that is in neither set
     */
    public static void check(Message message, String path, Set<String> handled, Set<String> harmless) {
        for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
            String name = e.getKey().getName();
            if (handled.contains(name)) {
                continue;
            }
            if (harmless.contains(name)) {
                logger.warn("{}: not supported yet; ignored", join(path, name));
                continue;
            }
            throw unsupported(join(path, name));
        }
    }

    /** {@code <path>: not supported yet}. */
    public static ConfigException unsupported(String path) {
        return ConfigException.at(path, "not supported yet");
    }

    /** {@code path.name}, or {@code name} when {@code path} is empty. */
    public static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /**
     * A protobuf {@code Duration} in milliseconds (sub-millisecond parts round up, as a non-zero duration
     * must not turn into "disabled").
     *
     * @throws ConfigException when negative
     */
    public static long millis(Duration d, String path) {
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            throw ConfigException.at(path, d.getSeconds() + "s (expected: >= 0)");
        }
        long ms = d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
        if (ms == 0 && d.getNanos() > 0) {
            ms = 1;
        }
        return ms;
    }

    /** {@code "value"} with Java string quoting of quotes, for error messages. */
    public static String quote(String value) {
        return '"' + value.replace("\"", "\\\"") + '"';
    }
}
