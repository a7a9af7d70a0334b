/**
 * envoy.filters.http.fault: injects delays, aborts and response rate limits
 */
package dev.legate.filters.http.fault;
