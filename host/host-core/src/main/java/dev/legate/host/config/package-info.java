/**
 * Config: the Envoy v3 bootstrap parsed into Envoy's own protobuf messages (YAML → JSON → {@code JsonFormat}
 * with a type registry of every {@code @type} a loaded plugin takes), errors that name the file and the field's
 * path, checks for fields Legate does not implement yet, and the binding of {@code typed_config} to a factory's
 * config type.
 */
package dev.legate.host.config;
