package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The text of one script and where it came from: an Envoy {@code DataSource} ({@code inline_string},
 * {@code inline_bytes}, {@code filename}, {@code environment_variable}) or the deprecated {@code inline_code}.
 * Immutable.
 *
 * @param name      how logs and errors name the script: the file's path for {@code filename}, otherwise the config
 *                  field, e.g. {@code default_source_code} or {@code source_codes[auth]}
 * @param file      the absolute file for {@code filename} (watched and re-read), otherwise {@code null}
 * @param text      the script text (UTF-8 decoded)
 * @param fieldPath the config field the source came from, for config errors
 */
public record ScriptSource(String name, Path file, String text, String fieldPath) {

    public ScriptSource {
        requireNonNull(name, "name");
        requireNonNull(text, "text");
        requireNonNull(fieldPath, "fieldPath");
    }

    /** An inline script (for {@code inline_code}, tests and examples). */
    public static ScriptSource inline(String fieldPath, String text) {
        return new ScriptSource(fieldPath, null, text, fieldPath);
    }

    /**
     * Reads a {@code DataSource}; a relative {@code filename} resolves against {@code configDirectory}
     * ({@link dev.legate.api.FactoryContext#configDirectory()}).
     *
     * @param fieldPath the field holding the data source, e.g. {@code default_source_code}
     * @throws ConfigException when the source is empty or the file or variable cannot be read, naming
     *                         {@code fieldPath}: {@code default_source_code.filename: /x.lua (cannot read: ...)}
     */
    public static ScriptSource load(DataSource source, Path configDirectory, String fieldPath) {
        requireNonNull(source, "source");
        requireNonNull(fieldPath, "fieldPath");
        return switch (source.getSpecifierCase()) {
            case INLINE_STRING -> inline(fieldPath, source.getInlineString());
            case INLINE_BYTES -> inline(fieldPath, source.getInlineBytes().toStringUtf8());
            case FILENAME -> {
                Path file = resolve(source.getFilename(), configDirectory);
                yield new ScriptSource(file.toString(), file, read(file, fieldPath + ".filename"), fieldPath);
            }
            case ENVIRONMENT_VARIABLE -> {
                String value = System.getenv(source.getEnvironmentVariable());
                if (value == null) {
                    throw ConfigException.at(fieldPath + ".environment_variable",
                            source.getEnvironmentVariable() + " (expected: a set environment variable)");
                }
                yield inline(fieldPath, value);
            }
            default -> throw ConfigException.at(fieldPath,
                    "empty (expected: one of inline_string, inline_bytes, filename, environment_variable)");
        };
    }

    /** Whether the script comes from a file that can change. */
    public boolean isFile() {
        return file != null;
    }

    /** The same source with new text (a watched file changed). */
    public ScriptSource withText(String newText) {
        return new ScriptSource(name, file, newText, fieldPath);
    }

    /** {@code file} made absolute against {@code configDirectory} when relative. */
    static Path resolve(String filename, Path configDirectory) {
        Path p = Path.of(filename);
        if (!p.isAbsolute() && configDirectory != null) {
            p = configDirectory.resolve(p);
        }
        return p.toAbsolutePath().normalize();
    }

    /** Reads {@code file} as UTF-8. */
    static String read(Path file, String fieldPath) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw ConfigException.at(fieldPath, file + " (cannot read: " + e + ")");
        }
    }
}
