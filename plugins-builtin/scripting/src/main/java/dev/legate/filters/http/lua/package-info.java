/**
 * envoy.filters.http.lua and legate.filters.http.javascript: HTTP filters written as scripts
 */
package dev.legate.filters.http.lua;
