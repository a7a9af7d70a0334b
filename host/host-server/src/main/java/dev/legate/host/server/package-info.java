/** The {@code legate} command line and the distribution it runs from. */
package dev.legate.host.server;
