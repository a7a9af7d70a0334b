/** L4 filters: bytes in, bytes out, on one connection's event loop (Envoy's network filters). */
package dev.legate.api.network;
