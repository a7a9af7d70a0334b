/** Event loops and the socket transport (epoll or NIO). */
package dev.legate.host.event;
