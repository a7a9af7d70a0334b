package dev.legate.api;

import static java.util.Objects.requireNonNull;

/**
 * A typed key for state shared between filters of one connection or stream (Envoy's filter state).
 * Declare keys once, as constants: {@code static final StateKey<Principal> PRINCIPAL =
 * StateKey.of("legate.filters.http.jwt.principal", Principal.class);}
 *
 * @param name  a dotted name, unique in the process
 * @param type  the value type
 * @param <T>   the value type
 */
public record StateKey<T>(String name, Class<T> type) {
    public StateKey {
        requireNonNull(name, "name");
        requireNonNull(type, "type");
    }

    public static <T> StateKey<T> of(String name, Class<T> type) {
        return new StateKey<>(name, type);
    }
}
