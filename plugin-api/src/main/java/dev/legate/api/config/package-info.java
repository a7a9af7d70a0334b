/** How a factory declares the config it takes: a protobuf type or a record bound from {@code TypedStruct}. */
package dev.legate.api.config;
