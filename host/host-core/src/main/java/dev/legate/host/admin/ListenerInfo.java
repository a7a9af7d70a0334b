package dev.legate.host.admin;

import static java.util.Objects.requireNonNull;

import java.net.InetSocketAddress;

/**
 * One bound listener, as {@code /listeners} shows it.
 *
 * @param name    the listener's {@code name}
 * @param address the bound address (the real port when the config said 0)
 */
public record ListenerInfo(String name, InetSocketAddress address) {
    public ListenerInfo {
        requireNonNull(name, "name");
        requireNonNull(address, "address");
    }
}
