package dev.legate.host.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Finds where a JSON config breaks its protobuf schema, for the error message: protobuf's {@code JsonFormat}
 * says "Cannot find field: stat_prefx in message ..." but not where. This walks the JSON tree against the
 * message descriptors (resolving {@code @type} of {@code Any} through the registry) and returns the first
 * unknown field or unknown type URL with its path, e.g.
 * {@code static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefx: unknown field}.
 * A reader of a parsed tree, not a parser.
 */
final class JsonConfigLocator {

    private static final String ANY = "google.protobuf.Any";
    /** Types whose JSON form is not an object of their fields; JsonFormat checks them itself. */
    private static final Set<String> OPAQUE = Set.of(
            "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
            "google.protobuf.Duration", "google.protobuf.Timestamp", "google.protobuf.FieldMask",
            "google.protobuf.Empty", "google.protobuf.NullValue",
            "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
            "google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
            "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue");

    private final TypeRegistry registry;

    JsonConfigLocator(TypeRegistry registry) {
        this.registry = registry;
    }

    /** The first problem under {@code node} read as {@code type}, as {@code path: what}, or {@code null}. */
    String firstProblem(JsonNode node, Descriptor type, String path) {
        if (node == null || node.isNull()) {
            return null;
        }
        String name = type.getFullName();
        if (OPAQUE.contains(name)) {
            return null;
        }
        if (ANY.equals(name)) {
            return any(node, path);
        }
        if (!node.isObject()) {
            return null;
        }
        return fields(node, type, path, null);
    }

    private String any(JsonNode node, String path) {
        if (!node.isObject() || node.isEmpty()) {
            return null;
        }
        JsonNode typeNode = node.get("@type");
        if (typeNode == null || !typeNode.isTextual()) {
            return at(path, "missing @type");
        }
        String url = typeNode.asText();
        Descriptor type;
        try {
            type = registry.getDescriptorForTypeUrl(url);
        } catch (InvalidProtocolBufferException e) {
            return at(path, "invalid type URL " + url);
        }
        if (type == null) {
            return at(path, "unknown type URL " + url + " (no loaded plugin or built-in type declares it)");
        }
        if (OPAQUE.contains(type.getFullName()) || ANY.equals(type.getFullName())) {
            return null;
        }
        return fields(node, type, path, "@type");
    }

    private String fields(JsonNode node, Descriptor type, String path, String skip) {
        Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (key.equals(skip)) {
                continue;
            }
            String p = path.isEmpty() ? key : path + "." + key;
            FieldDescriptor f = field(type, key);
            if (f == null) {
                return at(p, "unknown field");
            }
            if (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            JsonNode v = e.getValue();
            String problem;
            if (f.isMapField()) {
                problem = map(v, f, p);
            } else if (f.isRepeated()) {
                problem = null;
                if (v.isArray()) {
                    for (int i = 0; i < v.size() && problem == null; i++) {
                        problem = firstProblem(v.get(i), f.getMessageType(), p + "[" + i + "]");
                    }
                }
            } else {
                problem = firstProblem(v, f.getMessageType(), p);
            }
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    private String map(JsonNode v, FieldDescriptor f, String path) {
        FieldDescriptor value = f.getMessageType().findFieldByName("value");
        if (!v.isObject() || value.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
            return null;
        }
        Iterator<Map.Entry<String, JsonNode>> it = v.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String problem = firstProblem(e.getValue(), value.getMessageType(), path + "." + e.getKey());
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /**
     * Given that {@code node} does not parse as {@code type} although it has no unknown field, finds the value
     * that breaks it by parsing ever smaller parts (one field at a time, then inside it), e.g.
     * {@code static_resources.listeners[0].address.socket_address.port_value: Not an uint32 value: "abc"}.
     *
     * @return {@code path: protobuf's message}, or {@code null} when no single part fails on its own
     */
    String firstBadValue(JsonNode node, Descriptor type, String path) {
        if (node == null || !node.isObject() || OPAQUE.contains(type.getFullName())) {
            return null;
        }
        Descriptor effective = type;
        String skip = null;
        if (ANY.equals(type.getFullName())) {
            JsonNode t = node.get("@type");
            if (t == null || !t.isTextual()) {
                return null;
            }
            try {
                effective = registry.getDescriptorForTypeUrl(t.asText());
            } catch (InvalidProtocolBufferException e) {
                return null;
            }
            if (effective == null || OPAQUE.contains(effective.getFullName())) {
                return null;
            }
            skip = "@type";
        }
        Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            FieldDescriptor f = key.equals(skip) ? null : field(effective, key);
            if (f == null) {
                continue;
            }
            ObjectNode single = JsonNodeFactory.instance.objectNode();
            single.set(key, e.getValue());
            String error = parseError(single, effective);
            if (error == null) {
                continue;
            }
            String p = path.isEmpty() ? key : path + "." + key;
            JsonNode v = e.getValue();
            if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (f.isMapField()) {
                    FieldDescriptor value = f.getMessageType().findFieldByName("value");
                    if (v.isObject() && value.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                        Iterator<Map.Entry<String, JsonNode>> entries = v.properties().iterator();
                        while (entries.hasNext()) {
                            Map.Entry<String, JsonNode> me = entries.next();
                            String inner = parseError(me.getValue(), value.getMessageType());
                            if (inner != null) {
                                String deeper = firstBadValue(me.getValue(), value.getMessageType(),
                                        p + "." + me.getKey());
                                return deeper != null ? deeper : p + "." + me.getKey() + ": " + inner;
                            }
                        }
                    }
                } else if (f.isRepeated() && v.isArray()) {
                    for (int i = 0; i < v.size(); i++) {
                        String inner = parseError(v.get(i), f.getMessageType());
                        if (inner != null) {
                            String deeper = firstBadValue(v.get(i), f.getMessageType(), p + "[" + i + "]");
                            return deeper != null ? deeper : p + "[" + i + "]: " + inner;
                        }
                    }
                } else if (!f.isRepeated()) {
                    String deeper = firstBadValue(v, f.getMessageType(), p);
                    if (deeper != null) {
                        return deeper;
                    }
                }
            }
            return p + ": " + error;
        }
        return null;
    }

    /** JsonFormat's first message line when {@code node} does not parse as {@code type}; {@code null} if it does. */
    private String parseError(JsonNode node, Descriptor type) {
        try {
            JsonFormat.parser().usingTypeRegistry(registry).merge(node.toString(), DynamicMessage.newBuilder(type));
            return null;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int nl = m.indexOf('\n');
            return nl < 0 ? m : m.substring(0, nl);
        }
    }

    private static FieldDescriptor field(Descriptor type, String key) {
        FieldDescriptor f = type.findFieldByName(key);
        if (f != null) {
            return f;
        }
        for (FieldDescriptor candidate : type.getFields()) {
            if (candidate.getJsonName().equals(key)) {
                return candidate;
            }
        }
        return null;
    }

    private static String at(String path, String what) {
        return path.isEmpty() ? what : path + ": " + what;
    }
}
