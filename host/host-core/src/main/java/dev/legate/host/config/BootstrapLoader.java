package dev.legate.host.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads an Envoy v3 bootstrap into {@link Bootstrap}: the {@code -c/--config-path} file ({@code .yaml},
 * {@code .yml} or {@code .json}) and/or the {@code --config-yaml} string, the latter merged on top (protobuf
 * {@code mergeFrom}, as Envoy does: scalars replace, repeated fields append). YAML is read by Jackson into a
 * JSON tree, which protobuf's {@code JsonFormat} parses with the given type registry; unknown fields are an
 * error (Envoy's default for static config).
 *
 * <p>Errors are {@link ConfigException}s whose message starts with the file ({@code --config-yaml} for the
 * string): {@code config file not found: <path>}; YAML syntax with line and column;
 * {@code <file>: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx: unknown field};
 * {@code <file>: <path>: unknown type URL <url> ...}. Main thread only.
 */
public final class BootstrapLoader {

    /** The source name used in errors for the {@code --config-yaml} string. */
    public static final String CONFIG_YAML = "--config-yaml";

    /**
     * A loaded bootstrap.
     *
     * @param bootstrap       the merged bootstrap
     * @param configDirectory the directory of the config file (the working directory without a file), for
     *                        relative file names in the config
     * @param source          the file name, or {@code --config-yaml}, for error messages
     */
    public record Loaded(Bootstrap bootstrap, Path configDirectory, String source) {
    }

    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private BootstrapLoader() {
    }

    /**
     * Loads {@code configPath} (may be {@code null}) and merges {@code configYaml} (may be {@code null}) on top.
     *
     * @throws ConfigException when neither is given, the file is missing or unreadable, or the content is bad
     */
    public static Loaded load(Path configPath, String configYaml, TypeRegistry registry) {
        boolean hasYaml = configYaml != null && !configYaml.isBlank();
        if (configPath == null && !hasYaml) {
            throw new ConfigException("no config: give -c/--config-path or --config-yaml");
        }
        Bootstrap.Builder merged = Bootstrap.newBuilder();
        Path dir = Path.of("").toAbsolutePath();
        String source = CONFIG_YAML;
        if (configPath != null) {
            source = configPath.toString();
            merged.mergeFrom(readFile(configPath, registry));
            Path parent = configPath.toAbsolutePath().getParent();
            if (parent != null) {
                dir = parent;
            }
        }
        if (hasYaml) {
            merged.mergeFrom(parse(configYaml, CONFIG_YAML, true, registry));
        }
        return new Loaded(merged.build(), dir, source);
    }

    private static Bootstrap readFile(Path path, TypeRegistry registry) {
        String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase();
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        if (!yaml && !name.endsWith(".json")) {
            if (!Files.exists(path)) {
                throw new ConfigException("config file not found: " + path);
            }
            throw new ConfigException(path + ": unsupported config file type (expected: .yaml, .yml or .json)");
        }
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file not found: " + path);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, path.toString(), yaml, registry);
    }

    /**
     * Parses one YAML (or JSON, when {@code yaml} is false) document into a bootstrap.
     *
     * @param source the file name or {@code --config-yaml}, put in front of every error
     */
    public static Bootstrap parse(String text, String source, boolean yaml, TypeRegistry registry) {
        JsonNode tree;
        try {
            tree = (yaml ? YAML : JSON).readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : ":" + loc.getLineNr() + ":" + loc.getColumnNr();
            throw new ConfigException(source + where + ": " + (yaml ? "YAML" : "JSON") + " syntax error: "
                    + firstLine(e.getOriginalMessage()));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            return Bootstrap.getDefaultInstance();
        }
        if (!tree.isObject()) {
            throw new ConfigException(source + ": expected a mapping of bootstrap fields at the top level");
        }
        Bootstrap.Builder b = Bootstrap.newBuilder();
        try {
            JsonFormat.parser().usingTypeRegistry(registry).merge(JSON.writeValueAsString(tree), b);
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            JsonConfigLocator locator = new JsonConfigLocator(registry);
            String located = locator.firstProblem(tree, Bootstrap.getDescriptor(), "");
            if (located == null) {
                located = locator.firstBadValue(tree, Bootstrap.getDescriptor(), "");
            }
            throw new ConfigException(source + ": " + (located != null ? located : firstLine(e.getMessage())));
        } catch (IOException e) {
            throw new ConfigException(source + ": " + e.getMessage(), e);
        }
        return b.build();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid config";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
