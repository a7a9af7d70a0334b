/** Per-stream and per-connection records shared by the L4 and HTTP paths. */
package dev.legate.host.stream;
