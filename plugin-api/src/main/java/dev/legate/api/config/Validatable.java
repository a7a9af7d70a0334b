package dev.legate.api.config;

/**
 * A record config with rules across fields. The host calls {@link #validate()} after binding; a violation
 * is a {@link dev.legate.api.ConfigException} naming the field, e.g.
 * {@code header: "" (expected: a non-empty header name)}.
 */
public interface Validatable {
    /** @throws dev.legate.api.ConfigException naming the first field that breaks a rule */
    void validate();
}
