/**
 * {@code legate.filters.http.javascript}: HTTP filters written in JavaScript with Envoy's Lua handle API, run by
 * GraalVM polyglot (one shared engine, one context per event loop and script version). The stream protocol is the
 * engine-neutral core's ({@code dev.legate.filters.http.scripting}); this package binds the JavaScript engine to
 * it: compiling ({@link dev.legate.filters.http.javascript.JsCompiler}), per-loop contexts
 * ({@link dev.legate.filters.http.javascript.JsWorker}), promise-based waits
 * ({@link dev.legate.filters.http.javascript.JsInvocation}), the handle objects the script sees
 * ({@link dev.legate.filters.http.javascript.JsHandle}) and the call bound
 * ({@link dev.legate.filters.http.javascript.JsRuntime}). Config: {@code legate/extensions/filters/http/javascript/
 * v1/javascript.proto} (generated into {@code dev.legate.filters.http.javascript.v1}).
 */
package dev.legate.filters.http.javascript;
