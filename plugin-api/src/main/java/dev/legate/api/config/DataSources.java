package dev.legate.api.config;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads an Envoy {@code config.core.v3.DataSource} at config load, as Envoy's {@code Config::DataSource::read}
 * ({@code source/common/config/datasource.cc}): {@code inline_string}, {@code inline_bytes} (UTF-8 decoded),
 * {@code filename} (read once, UTF-8) or {@code environment_variable}. {@code watched_directory} is rejected
 * (not supported yet). Blocking file I/O: call it from a factory's {@code create}, never on the data path.
 */
public final class DataSources {

    private DataSources() {
    }

    /**
     * The text of {@code source}.
     *
     * @param configDirectory where a relative {@code filename} resolves ({@code FactoryContext.configDirectory()});
     *                        null: against the working directory
     * @param fieldPath       the field holding the source, e.g. {@code downstream_auth_password}, for errors
     * @param allowEmpty      whether a source with nothing set reads as {@code ""} (Envoy's {@code allow_empty});
     *                        otherwise it is an error
     * @throws ConfigException naming the field: {@code <fieldPath>.filename: "x" (expected: a readable file: ...)},
     *                         {@code <fieldPath>.environment_variable: "X" (expected: a set environment variable)},
     *                         {@code <fieldPath>: empty (expected: inline_string, inline_bytes, filename or
     *                         environment_variable)}, {@code <fieldPath>.watched_directory: not supported yet}
     */
    public static String read(DataSource source, Path configDirectory, String fieldPath, boolean allowEmpty) {
        requireNonNull(source, "source");
        requireNonNull(fieldPath, "fieldPath");
        for (FieldDescriptor f : source.getAllFields().keySet()) {
            if (f.getRealContainingOneof() == null) {
                throw ConfigException.at(fieldPath + "." + f.getName(), "not supported yet");
            }
        }
        switch (source.getSpecifierCase()) {
            case INLINE_STRING:
                return source.getInlineString();
            case INLINE_BYTES:
                return source.getInlineBytes().toString(StandardCharsets.UTF_8);
            case FILENAME: {
                Path file = Path.of(source.getFilename());
                if (!file.isAbsolute() && configDirectory != null) {
                    file = configDirectory.resolve(file);
                }
                try {
                    return Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw ConfigException.at(fieldPath + ".filename", quote(source.getFilename())
                            + " (expected: a readable file: " + e + ")");
                }
            }
            case ENVIRONMENT_VARIABLE: {
                String v = System.getenv(source.getEnvironmentVariable());
                if (v == null) {
                    throw ConfigException.at(fieldPath + ".environment_variable",
                            quote(source.getEnvironmentVariable()) + " (expected: a set environment variable)");
                }
                return v;
            }
            default:
                if (allowEmpty) {
                    return "";
                }
                throw ConfigException.at(fieldPath,
                        "empty (expected: inline_string, inline_bytes, filename or environment_variable)");
        }
    }

    private static String quote(String value) {
        return '"' + value.replace("\"", "\\\"") + '"';
    }
}
