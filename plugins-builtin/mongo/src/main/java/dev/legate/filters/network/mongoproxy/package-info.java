/**
 * {@code envoy.filters.network.mongo_proxy}: a passive MongoDB wire-protocol sniffer placed before
 * {@code tcp_proxy}. It decodes both directions — Envoy's legacy opcodes and {@code OP_MSG}, which Envoy does not
 * decode — for Envoy's {@code mongo.<stat_prefix>.*} stats, a JSON-lines access log, fault delays and dynamic
 * metadata, and never changes the bytes.
 *
 * <p>Roles: {@link dev.legate.filters.network.mongoproxy.MongoProxyFilterFactory} (registration),
 * {@link dev.legate.filters.network.mongoproxy.MongoProxySettings} (bound config),
 * {@link dev.legate.filters.network.mongoproxy.MongoProxyFilter} (per connection), {@code MongoProxyStats};
 * the codec: {@code MongoDecoder} (framing, ours), {@code BsonScan} (BSON, read by {@code org.bson}),
 * {@code MongoMessage}, {@code QueryInfo}; and {@code MongoAccessLog} (the file writer).
 */
package dev.legate.filters.network.mongoproxy;
