package dev.legate.api;

/**
 * A configuration that Legate cannot run: an unknown field, a value out of range, a missing filter or
 * cluster. Thrown at load time only, never because of traffic.
 *
 * <p>The message names the field by its path in the config, in Armeria's form:
 * {@code http_filters[1].typed_config.max_age: -1 (expected: >= 0)}. The host prefixes the path of the
 * enclosing object and the file, so a factory names only the fields of its own config.
 */
public class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A config error at {@code path} (for example {@code route_config.virtual_hosts[0].domains}). */
    public static ConfigException at(String path, String message) {
        return new ConfigException(path.isEmpty() ? message : path + ": " + message);
    }

    /** The same error with {@code prefix} put in front of its path. */
    public ConfigException under(String prefix) {
        return new ConfigException(prefix + "." + getMessage(), getCause() == null ? this : getCause());
    }
}
