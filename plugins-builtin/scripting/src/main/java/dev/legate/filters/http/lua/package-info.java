/**
 * {@code envoy.filters.http.lua}: Envoy's Lua HTTP filter, with Envoy's config ({@code Lua}, {@code LuaPerRoute})
 * and handle API, run by LuaJ (pure Java, Lua 5.2 with the Lua 5.1/LuaJIT globals Envoy scripts use).
 *
 * <p>One LuaJ state per script per event loop ({@link dev.legate.filters.http.lua.LuaState}); a call that cannot
 * wait runs directly on the event loop, a call that may wait ({@code body()}, {@code bodyChunks()},
 * {@code trailers()}, {@code httpCall()}) on a {@link dev.legate.filters.http.scripting.ScriptCarrier}. The stream
 * protocol, reload and limits come from {@link dev.legate.filters.http.scripting}.
 */
package dev.legate.filters.http.lua;
