/**
 * Plugins: the PF4J manager over the plugin folders ({@code plugins-builtin/} of the distribution and the user's
 * {@code --plugins-dir}), and the registry of the filter factories they provide, by filter name.
 */
package dev.legate.host.plugin;
