package dev.legate.host.config;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The fields of a bootstrap that Legate does not implement yet: a {@link ConfigException} when the field would
 * change behaviour (xDS, TLS, listener filters, ...), a warning otherwise — never a silent ignore (DESIGN §1.1).
 * Clusters are checked by the cluster manager and filter configs by their factories.
 */
public final class BootstrapChecks {

    private static final String LATER = "not supported yet";

    private static final Set<String> BOOTSTRAP_DONE = Set.of("node", "static_resources", "admin");
    private static final Map<String, String> BOOTSTRAP_ERRORS = Map.of(
            "dynamic_resources", LATER + " (xDS arrives in a later release)",
            "hds_config", LATER + " (health discovery service)",
            "header_prefix", LATER + " (Legate always uses the x-envoy- prefix)",
            "overload_manager", LATER + " (no load shedding: its actions would not be taken)",
            "stats_sinks", LATER + " (stats are served by the admin listener only)",
            "stats_config", LATER + " (Envoy's default tag extraction is always used)");
    // layered_runtime stays a warning (its keys are not applied): Envoy's own examples carry static layers
    // admin.access_log: the admin server writes no access log yet, so it is a warning
    private static final Set<String> ADMIN_DONE = Set.of("address");
    private static final Map<String, String> ADMIN_ERRORS = Map.of(
            "allow_paths", LATER + " (the admin listener would serve every path)");
    private static final Set<String> LISTENER_DONE = Set.of("name", "address", "filter_chains",
            "per_connection_buffer_limit_bytes", "stat_prefix", "tcp_backlog_size", "default_filter_chain");
    private static final Map<String, String> LISTENER_ERRORS = Map.ofEntries(
            Map.entry("listener_filters", LATER + " (listener filters arrive in a later release)"),
            Map.entry("additional_addresses", LATER),
            Map.entry("filter_chain_matcher", LATER + " (one filter chain per listener)"),
            Map.entry("api_listener", LATER),
            Map.entry("internal_listener", LATER),
            Map.entry("udp_listener_config", LATER + " (UDP listeners)"),
            Map.entry("use_original_dst", LATER),
            Map.entry("bind_to_port", LATER + " (every listener binds its port)"),
            Map.entry("transparent", LATER),
            Map.entry("enable_mptcp", LATER),
            Map.entry("socket_options", LATER + " (the listener's socket would not get them)"));
    private static final Set<String> CHAIN_DONE = Set.of("filters", "name");
    private static final Map<String, String> CHAIN_ERRORS = Map.of(
            "filter_chain_match", LATER + " (one filter chain per listener, without filter_chain_match)",
            "transport_socket", LATER + " (TLS arrives in a later release)",
            "use_proxy_proto", LATER + " (PROXY protocol)");

    private BootstrapChecks() {
    }

    /**
     * Checks {@code bootstrap}.
     *
     * @return the warnings, each {@code <path>: <what>}, for the caller to log
     * @throws ConfigException on the first field that would change behaviour
     */
    public static List<String> check(Bootstrap bootstrap) {
        List<String> warnings = new ArrayList<>();
        fields(bootstrap, "", BOOTSTRAP_DONE, BOOTSTRAP_ERRORS, warnings);
        if (bootstrap.hasStaticResources()) {
            if (bootstrap.getStaticResources().getSecretsCount() > 0) {
                throw ConfigException.at("static_resources.secrets", LATER + " (TLS arrives in a later release)");
            }
            for (int i = 0; i < bootstrap.getStaticResources().getListenersCount(); i++) {
                checkListener(bootstrap.getStaticResources().getListeners(i),
                        "static_resources.listeners[" + i + "]", warnings);
            }
        }
        if (bootstrap.hasAdmin()) {
            fields(bootstrap.getAdmin(), "admin", ADMIN_DONE, ADMIN_ERRORS, warnings);
            if (bootstrap.getAdmin().hasAddress()) {
                checkAddress(bootstrap.getAdmin().getAddress(), "admin.address");
            }
        }
        return warnings;
    }

    /** Checks one listener; the path is e.g. {@code static_resources.listeners[0]}. */
    public static void checkListener(Listener listener, String path, List<String> warnings) {
        Listener.Builder asRun = listener.toBuilder(); // values that ask for what Legate does anyway are fine
        if (listener.hasUseOriginalDst() && !listener.getUseOriginalDst().getValue()) {
            asRun.clearUseOriginalDst();
        }
        if (listener.hasBindToPort() && listener.getBindToPort().getValue()) {
            asRun.clearBindToPort();
        }
        if (listener.hasTransparent() && !listener.getTransparent().getValue()) {
            asRun.clearTransparent();
        }
        fields(asRun.build(), path, LISTENER_DONE, LISTENER_ERRORS, warnings);
        if (!listener.hasAddress()) {
            throw ConfigException.at(path + ".address", "missing (expected: socket_address with address and "
                    + "port_value)");
        }
        checkAddress(listener.getAddress(), path + ".address");
        if (listener.getFilterChainsCount() > 1) {
            throw ConfigException.at(path + ".filter_chains", listener.getFilterChainsCount()
                    + " filter chains: " + LATER + " (expected: exactly one filter chain)");
        }
        if (listener.getFilterChainsCount() == 1 && listener.hasDefaultFilterChain()) {
            throw ConfigException.at(path + ".default_filter_chain", LATER
                    + " next to filter_chains (expected: exactly one filter chain)");
        }
        if (listener.getFilterChainsCount() == 0 && !listener.hasDefaultFilterChain()) {
            throw ConfigException.at(path + ".filter_chains", "empty (expected: exactly one filter chain)");
        }
        if (listener.getFilterChainsCount() == 1) {
            checkChain(listener.getFilterChains(0), path + ".filter_chains[0]", warnings);
        } else {
            checkChain(listener.getDefaultFilterChain(), path + ".default_filter_chain", warnings);
        }
    }

    private static void checkChain(FilterChain chain, String path, List<String> warnings) {
        if (chain.hasFilterChainMatch() && chain.getFilterChainMatch().equals(FilterChainMatch.getDefaultInstance())) {
            chain = chain.toBuilder().clearFilterChainMatch().build(); // an empty match matches everything
        }
        fields(chain, path, CHAIN_DONE, CHAIN_ERRORS, warnings);
        for (int i = 0; i < chain.getFiltersCount(); i++) {
            Filter f = chain.getFilters(i);
            String p = path + ".filters[" + i + "]";
            if (f.hasConfigDiscovery()) {
                throw ConfigException.at(p + ".config_discovery", LATER + " (extension config discovery)");
            }
            if (f.getName().isEmpty()) {
                throw ConfigException.at(p + ".name", "missing (expected: a network filter name)");
            }
        }
    }

    /** Checks that {@code address} is a TCP {@code socket_address} with an IP and a port value. */
    public static void checkAddress(Address address, String path) {
        if (!address.hasSocketAddress()) {
            throw ConfigException.at(path, LATER + " (expected: socket_address; pipe and internal addresses "
                    + "are not supported)");
        }
        SocketAddress sa = address.getSocketAddress();
        String p = path + ".socket_address";
        if (sa.getProtocol() != SocketAddress.Protocol.TCP) {
            throw ConfigException.at(p + ".protocol", sa.getProtocol() + ": " + LATER + " (expected: TCP)");
        }
        if (!sa.getResolverName().isEmpty()) {
            throw ConfigException.at(p + ".resolver_name", LATER);
        }
        if (sa.hasNamedPort()) {
            throw ConfigException.at(p + ".named_port", LATER + " (expected: port_value)");
        }
        if (sa.getAddress().isEmpty()) {
            throw ConfigException.at(p + ".address", "missing (expected: an IP address, e.g. 127.0.0.1)");
        }
        if (io.netty.util.NetUtil.createByteArrayFromIpAddressString(sa.getAddress()) == null) {
            throw ConfigException.at(p + ".address", sa.getAddress() + " (expected: an IP address, e.g. 0.0.0.0)");
        }
        if (sa.getPortValue() > 65535) {
            throw ConfigException.at(p + ".port_value", sa.getPortValue() + " (expected: <= 65535)");
        }
    }

    private static void fields(Message m, String path, Set<String> done, Map<String, String> errors,
                               List<String> warnings) {
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            String name = e.getKey().getName();
            if (done.contains(name)) {
                continue;
            }
            String p = path.isEmpty() ? name : path + "." + name;
            String error = errors.get(name);
            if (error != null) {
                throw ConfigException.at(p, error);
            }
            warnings.add(p + ": not implemented yet, ignored");
        }
    }
}
