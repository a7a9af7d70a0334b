package dev.legate.api.matcher;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.legate.api.ConfigException;
import java.util.Set;

/**
 * The checks and message pieces the matchers share: no set field is left unhandled, non-empty strings, quoting of
 * values in messages. Stateless; main thread.
 */
final class MatcherFields {

    private MatcherFields() {
    }

    /**
     * Refuses a field set in {@code message} that is not in {@code handled}, as {@code <path>.<field>: not
     * supported yet} (a field of a newer Envoy API that this code does not run must not be ignored silently).
     */
    static void check(Message message, String path, Set<String> handled) {
        for (FieldDescriptor f : message.getAllFields().keySet()) {
            if (!handled.contains(f.getName())) {
                throw ConfigException.at(join(path, f.getName()), "not supported yet");
            }
        }
    }

    /** {@code v} when not empty; else {@code <path>: "" (expected: non-empty)}. */
    static String nonEmpty(String v, String path) {
        if (v.isEmpty()) {
            throw ConfigException.at(path, "\"\" (expected: non-empty)");
        }
        return v;
    }

    /** {@code path.name}, or {@code name} when {@code path} is empty. */
    static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** {@code value} in double quotes, with {@code \}, {@code "}, CR, LF and NUL escaped, for error messages. */
    static String quote(String value) {
        StringBuilder b = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\r' -> b.append("\\r");
                case '\n' -> b.append("\\n");
                case 0 -> b.append("\\0");
                default -> b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
