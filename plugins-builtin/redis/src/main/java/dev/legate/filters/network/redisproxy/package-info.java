/**
 * {@code envoy.filters.network.redis_proxy}: a Redis proxy that terminates RESP (RESP2, and RESP3 after
 * {@code HELLO 3}), routes each command by key prefix to a cluster and by key hash to a host, splits
 * multi-key commands across hosts and merges their replies (Envoy's
 * {@code source/extensions/filters/network/redis_proxy/}).
 *
 * <p>{@link dev.legate.filters.network.redisproxy.RedisProxyFilterFactory} binds Envoy's {@code RedisProxy}
 * message into {@code RedisProxySettings} (immutable, shared by every event loop); {@code RedisProxyFilter}
 * serves one client connection on its event loop; {@code RedisUpstreamClient} is one pipelined connection
 * per host, protocol and event loop, kept in {@code RedisConnPool}; {@code RespDecoder}/{@code RespEncoder}
 * are the RESP codec.
 */
package dev.legate.filters.network.redisproxy;
