package dev.legate.examples.addheader;

import dev.legate.api.ConfigException;
import dev.legate.api.config.Validatable;
import java.util.Locale;

/**
 * The config of {@code legate.examples.add_header}, bound by the host from a {@code TypedStruct}'s
 * {@code value} (keys are the components' names in snake_case; an unknown key is an error):
 *
 * <pre>{@code
 * typed_config:
 *   "@type": type.googleapis.com/xds.type.v3.TypedStruct
 *   type_url: type.googleapis.com/legate.examples.AddHeader
 *   value:
 *     header: x-served-by
 *     value: legate
 * }</pre>
 *
 * @param header the response header to add: required, an HTTP token, not a pseudo-header ({@code :status});
 *               stored lower-case, as header names are case-insensitive
 * @param value  its value; may be empty, may not contain CR or LF
 */
public record AddHeaderConfig(String header, String value) implements Validatable {

    public AddHeaderConfig {
        if (header != null) {
            header = header.toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @throws ConfigException naming the field, e.g. {@code header: "" (expected: a non-empty header name)}
     */
    @Override
    public void validate() {
        if (header == null || header.isEmpty()) {
            throw ConfigException.at("header", "\"\" (expected: a non-empty header name)");
        }
        if (header.startsWith(":")) {
            throw ConfigException.at("header", quote(header) + " (expected: a regular header, not a pseudo-header)");
        }
        for (int i = 0; i < header.length(); i++) {
            if (!isTokenChar(header.charAt(i))) {
                throw ConfigException.at("header", quote(header) + " (expected: a header name made of letters, digits and !#$%&'*+-.^_`|~)");
            }
        }
        if (value == null) {
            throw ConfigException.at("value", "missing (expected: a string; \"\" is allowed)");
        }
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
            throw ConfigException.at("value", quote(value) + " (expected: no CR, LF or NUL)");
        }
    }

    /** RFC 9110 {@code tchar}. */
    private static boolean isTokenChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
                || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\r", "\\r").replace("\n", "\\n")
                .replace("\0", "\\0") + '"';
    }
}
