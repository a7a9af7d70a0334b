package dev.legate.host.http;

import dev.legate.api.http.HeaderMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP upgrade rules shared by every codec (Envoy's {@code Utility::isUpgrade} in source/common/http/utility.cc
 * and {@code HttpConnectionManagerConfig::createUpgradeFilterChain} in
 * source/extensions/filters/network/http_connection_manager/config.cc). Works on the codec-neutral header map:
 * an HTTP/2 extended CONNECT reaches the filter chain in the HTTP/1 form ({@code connection: upgrade} plus
 * {@code upgrade: <protocol>}). Stateless.
 */
final class Upgrades {

    static final String UPGRADE = "upgrade";
    static final String CONNECTION = "connection";

    private Upgrades() {
    }

    /** {@code upgrade} is present and {@code connection} holds the token {@code upgrade} (any case). */
    static boolean isUpgrade(HeaderMap headers) {
        String upgrade = headers.get(UPGRADE);
        if (upgrade == null || upgrade.isEmpty()) {
            return false;
        }
        for (String v : headers.getAll(CONNECTION)) {
            if (hasToken(v, UPGRADE)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the comma-separated {@code value} holds {@code token} (case-insensitive, spaces trimmed). */
    static boolean hasToken(String value, String token) {
        for (String t : value.split(",")) {
            if (t.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
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
