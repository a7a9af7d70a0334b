package dev.legate.host.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import dev.legate.api.ConfigException;
import dev.legate.api.config.ConfigType;
import dev.legate.api.config.Validatable;
import dev.legate.host.plugin.FilterRegistry;

/**
 * Binds a filter's {@code typed_config} ({@code Any}) to the config type its factory declares:
 * <ul>
 *   <li>an {@code Any} whose type URL is the factory's protobuf type: unpacked;</li>
 *   <li>{@code xds.type.v3.TypedStruct} or {@code udpa.type.v1.TypedStruct} whose {@code type_url} is the
 *       factory's type: the {@code value} Struct is printed to JSON and read by Jackson into the record
 *       (snake_case keys, an unknown key is an error), or parsed by {@code JsonFormat} into the protobuf type;
 *       a record that implements {@link Validatable} is then validated.</li>
 * </ul>
 * Errors carry the path, e.g. {@code http_filters[1].typed_config.value.heder: unknown field}. Thread-safe.
 */
public final class ConfigBinder {

    private static final String XDS_TYPED_STRUCT = "xds.type.v3.TypedStruct";
    private static final String UDPA_TYPED_STRUCT = "udpa.type.v1.TypedStruct";

    private static final ObjectMapper RECORDS = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final TypeRegistry types;
    private final FilterRegistry filters;

    public ConfigBinder(TypeRegistry types, FilterRegistry filters) {
        this.types = requireNonNull(types, "types");
        this.filters = requireNonNull(filters, "filters");
    }

    /**
     * The type URL a {@code typed_config} stands for: its own, or for a {@code TypedStruct} the one inside;
     * empty when absent or unreadable.
     */
    public static String configTypeUrl(Any any) {
        if (any == null) {
            return "";
        }
        String url = any.getTypeUrl();
        String fullName = url.substring(url.lastIndexOf('/') + 1);
        try {
            if (fullName.equals(XDS_TYPED_STRUCT)) {
                return any.unpack(com.github.xds.type.v3.TypedStruct.class).getTypeUrl();
            }
            if (fullName.equals(UDPA_TYPED_STRUCT)) {
                return any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class).getTypeUrl();
            }
        } catch (InvalidProtocolBufferException e) {
            return "";
        }
        return url;
    }

    /** The type registry configs are parsed with. */
    public TypeRegistry types() {
        return types;
    }

    /**
     * Binds {@code any} to {@code type}.
     *
     * @param filterName the filter the config is for, for messages
     * @param path       the path of {@code any} itself, e.g. {@code ...filters[0].typed_config}
     * @throws ConfigException naming the path on a type mismatch, an unknown field or a failed validation
     */
    public <C> C bind(ConfigType<C> type, Any any, String filterName, String path) {
        requireNonNull(type, "type");
        if (any == null || any.getTypeUrl().isEmpty()) {
            if (type.isProto()) {
                return type.javaType().cast(type.defaultInstance());
            }
            throw ConfigException.at(path, "missing (filter " + filterName + " needs an "
                    + XDS_TYPED_STRUCT + " with type_url " + type.typeUrl() + ")");
        }
        String url = any.getTypeUrl();
        String fullName = url.substring(url.lastIndexOf('/') + 1);
        if (url.equals(type.typeUrl()) || fullName.equals(type.fullName())) {
            if (!type.isProto()) {
                throw ConfigException.at(path, "filter " + filterName + " takes " + type.fullName()
                        + " as an " + XDS_TYPED_STRUCT + " (type_url + value), not as a protobuf message");
            }
            try {
                Message m = type.defaultInstance().getParserForType().parseFrom(any.getValue());
                return type.javaType().cast(m);
            } catch (InvalidProtocolBufferException e) {
                throw ConfigException.at(path, "cannot read " + type.fullName() + ": " + e.getMessage());
            }
        }
        if (fullName.equals(XDS_TYPED_STRUCT) || fullName.equals(UDPA_TYPED_STRUCT)) {
            String innerUrl;
            Struct value;
            try {
                if (fullName.equals(XDS_TYPED_STRUCT)) {
                    com.github.xds.type.v3.TypedStruct ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
                    innerUrl = ts.getTypeUrl();
                    value = ts.getValue();
                } else {
                    com.github.udpa.udpa.type.v1.TypedStruct ts =
                            any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
                    innerUrl = ts.getTypeUrl();
                    value = ts.getValue();
                }
            } catch (InvalidProtocolBufferException e) {
                throw ConfigException.at(path, "cannot read " + fullName + ": " + e.getMessage());
            }
            String innerName = innerUrl.substring(innerUrl.lastIndexOf('/') + 1);
            if (!innerUrl.equals(type.typeUrl()) && !innerName.equals(type.fullName())) {
                throw mismatch(path + ".type_url", innerUrl, type, filterName);
            }
            return fromStruct(type, value, path + ".value");
        }
        throw mismatch(path, url, type, filterName);
    }

    private ConfigException mismatch(String path, String url, ConfigType<?> type, String filterName) {
        String owner = filters.filterForTypeUrl(url);
        String what = owner != null && !owner.equals(filterName)
                ? url + " is the config of filter " + owner + ", not of " + filterName
                : url + " is not the config of filter " + filterName;
        return ConfigException.at(path, what + " (expected: " + type.typeUrl() + ")");
    }

    private <C> C fromStruct(ConfigType<C> type, Struct value, String path) {
        String json;
        try {
            json = JsonFormat.printer().print(value);
        } catch (InvalidProtocolBufferException e) {
            throw ConfigException.at(path, e.getMessage());
        }
        if (type.isProto()) {
            Message.Builder b = type.defaultInstance().newBuilderForType();
            try {
                JsonFormat.parser().usingTypeRegistry(types).merge(json, b);
            } catch (InvalidProtocolBufferException | RuntimeException e) {
                String located;
                try {
                    JsonConfigLocator locator = new JsonConfigLocator(types);
                    com.fasterxml.jackson.databind.JsonNode tree = RECORDS.readTree(json);
                    Descriptors.Descriptor d = type.defaultInstance().getDescriptorForType();
                    located = locator.firstProblem(tree, d, path);
                    if (located == null) {
                        located = locator.firstBadValue(tree, d, path);
                    }
                } catch (JsonProcessingException jpe) {
                    located = null;
                }
                throw new ConfigException(located != null ? located : path + ": " + e.getMessage());
            }
            return type.javaType().cast(b.build());
        }
        C bound;
        try {
            bound = RECORDS.readValue(json, type.javaType());
        } catch (UnrecognizedPropertyException e) {
            throw ConfigException.at(jsonPath(path, e), "unknown field (expected one of: "
                    + String.join(", ", e.getKnownPropertyIds().stream().map(String::valueOf).sorted().toList())
                    + ")");
        } catch (ValueInstantiationException e) {
            if (e.getCause() instanceof ConfigException ce) {
                throw ce.under(path);
            }
            throw ConfigException.at(path, firstLine(e.getOriginalMessage()));
        } catch (JsonMappingException e) {
            throw ConfigException.at(jsonPath(path, e), firstLine(e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw ConfigException.at(path, firstLine(e.getOriginalMessage()));
        }
        if (bound instanceof Validatable v) {
            try {
                v.validate();
            } catch (ConfigException e) {
                throw e.under(path);
            }
        }
        return bound;
    }

    private static String jsonPath(String base, JsonMappingException e) {
        StringBuilder sb = new StringBuilder(base);
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                sb.append('.').append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid value";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
