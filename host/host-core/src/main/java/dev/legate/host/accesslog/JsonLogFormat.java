package dev.legate.host.accesslog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code SubstitutionFormatString.json_format}: a {@link Struct} whose string values are format strings.
 * Each entry prints as one JSON object on one line (Jackson), keys in config order; a missing value is
 * {@code "-"}, or the key is left out with {@code omit_empty_values}. Numbers, booleans and nulls in the config
 * are copied as they are; nested objects and lists are formatted recursively. Immutable, thread-safe.
 */
final class JsonLogFormat {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A compiled value: a format string, a constant, an object or a list. */
    private sealed interface Node permits Formatted, Constant, Obj, Arr {
    }

    private record Formatted(FormatString format) implements Node {
    }

    private record Constant(JsonNode value) implements Node {
    }

    private record Obj(List<Map.Entry<String, Node>> fields) implements Node {
    }

    private record Arr(List<Node> items) implements Node {
    }

    private final Obj root;
    private final boolean omitEmptyValues;

    private JsonLogFormat(Obj root, boolean omitEmptyValues) {
        this.root = root;
        this.omitEmptyValues = omitEmptyValues;
    }

    static JsonLogFormat parse(Struct struct, boolean omitEmptyValues, String path) {
        return new JsonLogFormat(compile(struct, omitEmptyValues, path), omitEmptyValues);
    }

    private static Obj compile(Struct struct, boolean omit, String path) {
        List<Map.Entry<String, Node>> fields = new ArrayList<>();
        struct.getFieldsMap().forEach((k, v) -> fields.add(Map.entry(k, compile(v, omit, path + "." + k))));
        return new Obj(List.copyOf(fields));
    }

    private static Node compile(Value v, boolean omit, String path) {
        return switch (v.getKindCase()) {
            case STRING_VALUE -> new Formatted(FormatString.parse(v.getStringValue(), omit, path));
            case NUMBER_VALUE -> new Constant(F.numberNode(v.getNumberValue()));
            case BOOL_VALUE -> new Constant(F.booleanNode(v.getBoolValue()));
            case STRUCT_VALUE -> compile(v.getStructValue(), omit, path);
            case LIST_VALUE -> {
                ListValue l = v.getListValue();
                List<Node> items = new ArrayList<>();
                for (int i = 0; i < l.getValuesCount(); i++) {
                    items.add(compile(l.getValues(i), omit, path + "[" + i + "]"));
                }
                yield new Arr(List.copyOf(items));
            }
            default -> new Constant(F.nullNode());
        };
    }

    /** One JSON object and a newline. */
    String format(LogContext ctx) {
        ObjectNode out = F.objectNode();
        fill(out, root, ctx);
        try {
            return MAPPER.writeValueAsString(out) + "\n";
        } catch (JsonProcessingException e) {
            return "{}\n";
        }
    }

    private void fill(ObjectNode out, Obj obj, LogContext ctx) {
        for (Map.Entry<String, Node> e : obj.fields()) {
            JsonNode v = render(e.getValue(), ctx);
            if (v != null) {
                out.set(e.getKey(), v);
            }
        }
    }

    private JsonNode render(Node n, LogContext ctx) {
        return switch (n) {
            case Formatted f -> {
                String s = f.format().formatOrNull(ctx);
                if (s == null) {
                    yield omitEmptyValues ? null : F.textNode("-");
                }
                yield F.textNode(s);
            }
            case Constant c -> c.value();
            case Obj o -> {
                ObjectNode child = F.objectNode();
                fill(child, o, ctx);
                yield child;
            }
            case Arr a -> {
                ArrayNode arr = F.arrayNode();
                for (Node item : a.items()) {
                    JsonNode v = render(item, ctx);
                    arr.add(v == null ? F.nullNode() : v);
                }
                yield arr;
            }
        };
    }
}
