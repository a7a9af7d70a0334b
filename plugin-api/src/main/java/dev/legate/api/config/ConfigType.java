package dev.legate.api.config;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;

/**
 * The config type a factory accepts in {@code typed_config}, named by its {@code @type} URL.
 *
 * <p>Two kinds, as in DESIGN §3:
 * <ul>
 *   <li>{@link #proto(Message)}: a protobuf message, Envoy's own for Envoy's filters (or one a plugin
 *       ships). The host registers its descriptor in the type registry and parses the {@code Any} into it;
 *       unknown fields are an error.</li>
 *   <li>{@link #record(String, Class)}: a Java record bound from Envoy's untyped wrapper
 *       {@code xds.type.v3.TypedStruct} ({@code type_url} + {@code value}). Keys are the record's
 *       components in snake_case; an unknown key is an error; a record that implements
 *       {@link Validatable} is then validated.</li>
 * </ul>
 *
 * @param typeUrl      {@code type.googleapis.com/<full name>}
 * @param javaType     the message or record class
 * @param defaultInstance the message's default instance; {@code null} for a record
 * @param <C>          the bound type
 */
public record ConfigType<C>(String typeUrl, Class<C> javaType, Message defaultInstance) {

    private static final String PREFIX = "type.googleapis.com/";

    public ConfigType {
        requireNonNull(typeUrl, "typeUrl");
        requireNonNull(javaType, "javaType");
    }

    /** A protobuf config type, for example {@code ConfigType.proto(Router.getDefaultInstance())}. */
    @SuppressWarnings("unchecked")
    public static <M extends Message> ConfigType<M> proto(M defaultInstance) {
        requireNonNull(defaultInstance, "defaultInstance");
        return new ConfigType<>(PREFIX + defaultInstance.getDescriptorForType().getFullName(),
                (Class<M>) defaultInstance.getClass(), defaultInstance);
    }

    /**
     * A record config type bound from {@code TypedStruct}.
     *
     * @param fullName the name after {@code type.googleapis.com/}, e.g. {@code legate.examples.AddHeader}
     */
    public static <R extends Record> ConfigType<R> record(String fullName, Class<R> recordType) {
        requireNonNull(fullName, "fullName");
        if (!recordType.isRecord()) {
            throw new IllegalArgumentException("recordType: " + recordType.getName() + " (expected: a record)");
        }
        return new ConfigType<>(fullName.startsWith(PREFIX) ? fullName : PREFIX + fullName, recordType, null);
    }

    /** Whether this is a protobuf type (otherwise a record bound from {@code TypedStruct}). */
    public boolean isProto() {
        return defaultInstance != null;
    }

    /** The name after the last {@code /} of the type URL. */
    public String fullName() {
        return typeUrl.substring(typeUrl.lastIndexOf('/') + 1);
    }
}
