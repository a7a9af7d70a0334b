/**
 * {@code envoy.filters.network.tcp_proxy}: proxies a downstream TCP connection to one upstream host of a
 * cluster, byte for byte, with half-close, watermark flow control, an idle timeout, connect retries and an
 * access log entry per connection (Envoy's {@code source/common/tcp_proxy/tcp_proxy.cc}).
 *
 * <p>{@link dev.legate.filters.network.tcpproxy.TcpProxyFilterFactory} binds Envoy's {@code TcpProxy} message
 * into {@link dev.legate.filters.network.tcpproxy.TcpProxySettings} (immutable, shared by every event loop);
 * {@link dev.legate.filters.network.tcpproxy.TcpProxyFilter} serves one connection on its event loop.
 */
package dev.legate.filters.network.tcpproxy;
