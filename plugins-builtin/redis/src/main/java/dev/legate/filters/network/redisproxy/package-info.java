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
 *
 * <p>The RESP codec is ours, not Netty's {@code codec-redis}: Netty 4.2's {@code RedisDecoder}/{@code
 * RedisEncoder} know only RESP2's types (no RESP3 maps, sets, doubles, booleans, pushes or attributes, which
 * clients get after {@code HELLO 3}), and they are {@code ChannelHandler}s that need a channel pipeline,
 * while a Legate network filter gets bytes from the host's connection, not a pipeline of its own. Ours also
 * finds where a frame ends without parsing it ({@code RespDecoder.Scanner}, resuming across reads), so the
 * reply to a single-key command goes to the client as the upstream's raw bytes, and a client's request array
 * to the upstream unchanged, with no decode and re-encode.
 *
 * <p>Keys, prefixes, passwords: clients send bytes, which the filter holds as ISO-8859-1 text (one char per
 * byte); configured strings are converted once, at load, to the text of their UTF-8 bytes, so that both
 * compare byte for byte and a rewritten key turns back into the same bytes.
 */
package dev.legate.filters.network.redisproxy;
