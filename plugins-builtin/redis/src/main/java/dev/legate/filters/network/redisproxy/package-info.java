/**
 * envoy.filters.network.redis_proxy: a Redis proxy that routes commands by key
 */
package dev.legate.filters.network.redisproxy;
