/**
 * envoy.filters.network.mongo_proxy: sniffs the MongoDB wire protocol for stats and access logs
 */
package dev.legate.filters.network.mongoproxy;
