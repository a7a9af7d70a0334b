package dev.legate.host.http;

import java.util.Locale;
import java.util.Map;

/**
 * Whether an upgrade may proceed (Envoy's {@code HttpConnectionManagerConfig::createUpgradeFilterChain} in
 * source/extensions/filters/network/http_connection_manager/config.cc); what counts as an upgrade and its type
 * is {@link dev.legate.api.http.HttpUpgrades}. Stateless.
 */
final class Upgrades {

    private Upgrades() {
    }

    /**
     * Whether an upgrade of {@code type} may proceed: a route entry for the type decides ({@code false} refuses,
     * {@code true} allows even when the HTTP connection manager does not list the type); otherwise the HCM's
     * {@code upgrade_configs} entry and its {@code enabled}. Types compare case-insensitively.
     *
     * @param routeMap the route's {@code upgrade_configs} (lower-case keys), or {@code null} without a route entry
     * @param hcmMap   the HCM's {@code upgrade_configs} (lower-case keys)
     */
    static boolean allowed(String type, Map<String, Boolean> routeMap, Map<String, Boolean> hcmMap) {
        String key = type.trim().toLowerCase(Locale.ROOT);
        if (routeMap != null) {
            Boolean route = routeMap.get(key);
            if (route != null) {
                return route;
            }
        }
        return Boolean.TRUE.equals(hcmMap.get(key));
    }
}
