/**
 * How a factory declares the config it takes (a protobuf type or a record bound from {@code TypedStruct}), and
 * {@link dev.legate.api.config.DataSources} for reading Envoy {@code DataSource} fields at config load.
 */
package dev.legate.api.config;
