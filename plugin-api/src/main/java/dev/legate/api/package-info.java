/**
 * The Legate SPI: what a filter plugin is written against.
 *
 * <p>The model is Envoy's (see {@code envoy/network/filter.h} and {@code envoy/http/filter.h}): a
 * stateless factory, found by PF4J as an extension, binds its config once per listener and returns an
 * installer; the installer makes one filter per connection (L4) or per stream (HTTP). Filters return
 * statuses instead of futures; anything that waits resumes through its callbacks on the same event loop.
 *
 * <h2>Threading</h2>
 * Every connection lives on one worker event loop for its whole life. All filter and callback methods are
 * called on that loop, and must be called back on it ({@link dev.legate.api.Dispatcher#execute}). Factories
 * and the settings they capture are shared by all loops and must be immutable.
 *
 * <h2>Buffers</h2>
 * Data arrives as Netty {@link io.netty.buffer.ByteBuf}s that are <em>borrowed</em> for the duration of the
 * call: the host releases them. A filter that keeps bytes past the call retains them ({@code retain()},
 * {@code retainedSlice()}) and then owns that reference. A buffer handed <em>to</em> the host (a write, an
 * encode) is transferred: the host releases it.
 */
package dev.legate.api;
