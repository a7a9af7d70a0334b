package dev.legate.filters.network.httpconnectionmanager;

import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.ROUTER;
import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.error;
import static dev.legate.filters.network.httpconnectionmanager.HttpConnectionManagerConfigTest.settings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.testkit.TestHeaderMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Config tier: the HCM's {@code upgrade_configs} and the route's {@code RouteAction.upgrade_configs}. */
class UpgradeConfigTest {

    static final String ROUTES = "route_config { virtual_hosts { name: 'vh' domains: '*' "
            + "routes { match { prefix: '/off' } route { cluster: 'backend' "
            + "  upgrade_configs { upgrade_type: ' WebSocket ' enabled { value: false } } } } "
            + "routes { match { prefix: '/on' } route { cluster: 'backend' upgrade_configs { upgrade_type: 'foo' } } } "
            + "routes { match { prefix: '/' } route { cluster: 'backend' } } } } ";

    @Test
    void hcmUpgradeConfigsMapTypeToEnabled() {
        HttpConnectionManagerSettings s = settings("stat_prefix: 'x' " + ROUTES + ROUTER
                + "upgrade_configs { upgrade_type: ' WebSocket ' } "
                + "upgrade_configs { upgrade_type: 'spdy/3' enabled { value: false } }");
        assertThat(s.upgradeConfigs()).isEqualTo(Map.of("websocket", true, "spdy/3", false));
        assertThat(settings("stat_prefix: 'x' " + ROUTES + ROUTER).upgradeConfigs()).isEmpty();
    }

    @Test
    void routeUpgradeConfigsAreTheRouteEntrysUpgradeMap() {
        HttpConnectionManagerSettings s = settings("stat_prefix: 'x' " + ROUTES + ROUTER);
        assertThat(s.route(TestHeaderMap.request("h", "/off"), null).routeEntry().upgradeMap())
                .isEqualTo(Map.of("websocket", false));
        assertThat(s.route(TestHeaderMap.request("h", "/on"), null).routeEntry().upgradeMap())
                .isEqualTo(Map.of("foo", true));
        assertThat(s.route(TestHeaderMap.request("h", "/"), null).routeEntry().upgradeMap()).isEmpty();
    }

    @Test
    void errorsNameTheField() {
        String base = "stat_prefix: 'x' " + HttpConnectionManagerConfigTest.ROUTES + ROUTER;
        assertThat(error(base + "upgrade_configs { upgrade_type: 'websocket' filters { name: 'a' } }"))
                .isEqualTo("upgrade_configs[0].filters: not supported yet");
        assertThat(error(base + "upgrade_configs { upgrade_type: 'CONNECT' }"))
                .isEqualTo("upgrade_configs[0].upgrade_type: \"CONNECT\" is not supported yet");
        assertThat(error(base + "upgrade_configs { upgrade_type: '' }"))
                .isEqualTo("upgrade_configs[0].upgrade_type: \"\" (expected: non-empty, e.g. websocket)");
        assertThat(error(base + "upgrade_configs { upgrade_type: 'websocket' } upgrade_configs { upgrade_type: 'WebSocket' }"))
                .isEqualTo("upgrade_configs[1].upgrade_type: Error: multiple upgrade configs with the same name: 'websocket'");

        String route = "stat_prefix: 'x' " + ROUTER + "route_config { virtual_hosts { name: 'vh' domains: '*' "
                + "routes { match { prefix: '/' } route { cluster: 'backend' %s } } } }";
        String rp = "route_config.virtual_hosts[0].routes[0].route.upgrade_configs";
        assertThat(error(route.formatted("upgrade_configs { upgrade_type: 'websocket' connect_config { } }")))
                .isEqualTo(rp + "[0].connect_config: Non-CONNECT upgrade type websocket has ConnectConfig");
        assertThat(error(route.formatted("upgrade_configs { upgrade_type: 'CONNECT' connect_config { } }")))
                .isEqualTo(rp + "[0].upgrade_type: \"CONNECT\" is not supported yet");
        assertThat(error(route.formatted("upgrade_configs { upgrade_type: 'a' } upgrade_configs { upgrade_type: 'A' }")))
                .isEqualTo(rp + "[1].upgrade_type: Duplicate upgrade A");
    }
}
