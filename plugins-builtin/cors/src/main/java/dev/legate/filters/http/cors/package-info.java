/**
 * envoy.filters.http.cors: answers CORS preflights and adds CORS headers to responses
 */
package dev.legate.filters.http.cors;
