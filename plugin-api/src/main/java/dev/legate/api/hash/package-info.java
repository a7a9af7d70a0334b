/**
 * Hash functions whose values must match Envoy's bit for bit (consistent hashing of keys that Envoy and Legate
 * place on the same hosts), shared by the host and plugins.
 */
package dev.legate.api.hash;
