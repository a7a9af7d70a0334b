/** Listeners: bound sockets, filter-chain selection, and the network filter chain of each connection. */
package dev.legate.host.listener;
