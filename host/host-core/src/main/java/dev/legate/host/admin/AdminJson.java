package dev.legate.host.admin;

import com.github.xds.type.v3.TypedStruct;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.CommandLineOptions;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenerStatus;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.ServerInfo;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The protobuf JSON bodies of the admin interface: {@code /config_dump}, {@code /server_info} and
 * {@code /listeners?format=json}, printed with proto field names and default values omitted, as Envoy does.
 * Admin thread only.
 *
 * <p>{@code JsonFormat} takes a single type registry, so the one used here is built from the admin dump types,
 * the Envoy types Legate knows, and every {@code @type} found in the bootstrap, looked up in
 * {@link AdminContext#typeRegistry()}. It is built once per bootstrap instance.
 */
final class AdminJson {

    private static final String HCM_TYPE = "type.googleapis.com/"
            + HttpConnectionManager.getDescriptor().getFullName();

    /** Types the host knows even when the context's registry lacks them. */
    private static final List<Descriptor> KNOWN = List.of(ConfigDump.getDescriptor(),
            BootstrapConfigDump.getDescriptor(), ClustersConfigDump.getDescriptor(),
            ListenersConfigDump.getDescriptor(), RoutesConfigDump.getDescriptor(), ServerInfo.getDescriptor(),
            Listeners.getDescriptor(), Bootstrap.getDescriptor(), HttpConnectionManager.getDescriptor(),
            Router.getDescriptor(), TcpProxy.getDescriptor(), StdoutAccessLog.getDescriptor(),
            FileAccessLog.getDescriptor(), TypedStruct.getDescriptor());

    private static final TypeRegistry KNOWN_REGISTRY = TypeRegistry.newBuilder().add(KNOWN).build();

    private final AdminContext ctx;
    private Message registryFor;
    private JsonFormat.Printer printer;

    AdminJson(AdminContext ctx) {
        this.ctx = ctx;
    }

    /** Envoy's {@code /config_dump}: bootstrap, static clusters, static listeners, static route configs. */
    String configDump() throws InvalidProtocolBufferException {
        Bootstrap bootstrap = bootstrap();
        Timestamp lastUpdated = startTime();
        ConfigDump.Builder dump = ConfigDump.newBuilder();
        dump.addConfigs(Any.pack(BootstrapConfigDump.newBuilder().setBootstrap(bootstrap)
                .setLastUpdated(lastUpdated).build()));

        ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
        for (Cluster c : bootstrap.getStaticResources().getClustersList()) {
            clusters.addStaticClusters(ClustersConfigDump.StaticCluster.newBuilder()
                    .setCluster(Any.pack(c)).setLastUpdated(lastUpdated));
        }
        dump.addConfigs(Any.pack(clusters.build()));

        ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
        RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
        for (Listener l : bootstrap.getStaticResources().getListenersList()) {
            listeners.addStaticListeners(ListenersConfigDump.StaticListener.newBuilder()
                    .setListener(Any.pack(l)).setLastUpdated(lastUpdated));
            List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
            if (l.hasDefaultFilterChain()) {
                chains.add(l.getDefaultFilterChain());
            }
            for (FilterChain chain : chains) {
                for (Filter f : chain.getFiltersList()) {
                    if (f.hasTypedConfig() && f.getTypedConfig().getTypeUrl().equals(HCM_TYPE)) {
                        HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
                        if (hcm.hasRouteConfig()) {
                            routes.addStaticRouteConfigs(RoutesConfigDump.StaticRouteConfig.newBuilder()
                                    .setRouteConfig(Any.pack(hcm.getRouteConfig())).setLastUpdated(lastUpdated));
                        }
                    }
                }
            }
        }
        dump.addConfigs(Any.pack(listeners.build()));
        dump.addConfigs(Any.pack(routes.build()));
        return printer().print(dump.build()) + "\n";
    }

    /** Envoy's {@code /server_info}. */
    String serverInfo() throws InvalidProtocolBufferException {
        ServerInfo.State state;
        try {
            state = ServerInfo.State.valueOf(ctx.state());
        } catch (IllegalArgumentException | NullPointerException e) {
            state = ServerInfo.State.LIVE;
        }
        com.google.protobuf.Duration uptime = com.google.protobuf.Duration.newBuilder()
                .setSeconds(ctx.uptimeSeconds()).build();
        ServerInfo.Builder info = ServerInfo.newBuilder()
                .setVersion(AdminServer.VERSION)
                .setState(state)
                .setHotRestartVersion("disabled")
                .setUptimeCurrentEpoch(uptime)
                .setUptimeAllEpochs(uptime)
                .setCommandLineOptions(commandLineOptions(ctx.commandLineOptions()));
        if (ctx.node() != null) {
            info.setNode(ctx.node());
        }
        // Envoy prints /server_info with every primitive field, defaults included ("state": "LIVE")
        return printer().alwaysPrintFieldsWithNoPresence().print(info.build()) + "\n";
    }

    /** {@code /listeners?format=json}: Envoy's {@code admin.v3.Listeners}. */
    String listeners(List<ListenerInfo> list) throws InvalidProtocolBufferException {
        Listeners.Builder out = Listeners.newBuilder();
        for (ListenerInfo l : list) {
            InetSocketAddress a = l.address();
            String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            out.addListenerStatuses(ListenerStatus.newBuilder().setName(l.name())
                    .setLocalAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                            .setAddress(ip).setPortValue(a.getPort()))));
        }
        return JsonFormat.printer().preservingProtoFieldNames().print(out.build()) + "\n";
    }

    /** {@code CommandLineOptions} from the context's map, by proto field name; keys that do not fit are skipped. */
    static CommandLineOptions commandLineOptions(Map<String, Object> options) {
        CommandLineOptions.Builder b = CommandLineOptions.newBuilder();
        if (options == null) {
            return b.build();
        }
        Descriptor d = CommandLineOptions.getDescriptor();
        options.forEach((key, value) -> {
            FieldDescriptor fd = d.findFieldByName(key);
            if (fd == null || value == null) {
                return;
            }
            try {
                if (fd.isRepeated()) {
                    if (value instanceof List<?> list) {
                        for (Object item : list) {
                            Object v = convert(fd, item);
                            if (v != null) {
                                b.addRepeatedField(fd, v);
                            }
                        }
                    }
                    return;
                }
                Object v = convert(fd, value);
                if (v != null) {
                    b.setField(fd, v);
                }
            } catch (RuntimeException e) {
                // a value of the wrong shape is left out: admin output never fails over it
            }
        });
        return b.build();
    }

    private static Object convert(FieldDescriptor fd, Object value) {
        return switch (fd.getJavaType()) {
            case STRING -> value.toString();
            case INT -> ((Number) value).intValue();
            case LONG -> ((Number) value).longValue();
            case BOOLEAN -> value instanceof Boolean bool ? bool : Boolean.parseBoolean(value.toString());
            case DOUBLE -> ((Number) value).doubleValue();
            case FLOAT -> ((Number) value).floatValue();
            case ENUM -> {
                for (EnumValueDescriptor ev : fd.getEnumType().getValues()) {
                    if (ev.getName().equalsIgnoreCase(value.toString())) {
                        yield ev;
                    }
                }
                yield null;
            }
            case MESSAGE -> {
                if (value instanceof Message m) {
                    yield m;
                }
                if (fd.getMessageType().equals(com.google.protobuf.Duration.getDescriptor())) {
                    if (value instanceof java.time.Duration jd) {
                        yield com.google.protobuf.Duration.newBuilder().setSeconds(jd.getSeconds())
                                .setNanos(jd.getNano()).build();
                    }
                    if (value instanceof Number n) {
                        yield com.google.protobuf.Duration.newBuilder().setSeconds(n.longValue()).build();
                    }
                }
                yield null;
            }
            default -> null;
        };
    }

    private Bootstrap bootstrap() throws InvalidProtocolBufferException {
        Message m = ctx.bootstrap();
        if (m == null) {
            return Bootstrap.getDefaultInstance();
        }
        if (m instanceof Bootstrap b) {
            return b;
        }
        return Bootstrap.parseFrom(m.toByteString());
    }

    private Timestamp startTime() {
        long now = System.currentTimeMillis();
        long start = now / 1000 - Math.max(0, ctx.uptimeSeconds());
        return Timestamp.newBuilder().setSeconds(start).build();
    }

    /** The printer for the current bootstrap, with every {@code @type} it holds in the registry. */
    private JsonFormat.Printer printer() throws InvalidProtocolBufferException {
        Message b = ctx.bootstrap();
        if (printer == null || registryFor != b) {
            TypeRegistry.Builder reg = TypeRegistry.newBuilder().add(KNOWN);
            if (b != null) {
                collectAnyTypes(b, ctx.typeRegistry(), reg, new HashSet<>());
            }
            if (ctx.node() != null) {
                collectAnyTypes(ctx.node(), ctx.typeRegistry(), reg, new HashSet<>());
            }
            printer = JsonFormat.printer().usingTypeRegistry(reg.build()).preservingProtoFieldNames();
            registryFor = b;
        }
        return printer;
    }

    /** Adds the descriptor of every {@code Any} inside {@code m} (recursively, unpacked) to {@code out}. */
    static void collectAnyTypes(Message m, TypeRegistry from, TypeRegistry.Builder out, Set<String> seen) {
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor fd = e.getKey();
            if (fd.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            List<?> values = fd.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
            for (Object v : values) {
                Message child = (Message) v;
                if (child.getDescriptorForType().getFullName().equals(Any.getDescriptor().getFullName())) {
                    collectAny(child, from, out, seen);
                } else {
                    collectAnyTypes(child, from, out, seen);
                }
            }
        }
    }

    private static void collectAny(Message any, TypeRegistry from, TypeRegistry.Builder out, Set<String> seen) {
        Descriptor ad = any.getDescriptorForType();
        String url = (String) any.getField(ad.findFieldByName("type_url"));
        ByteString value = (ByteString) any.getField(ad.findFieldByName("value"));
        if (!seen.add(url + "#" + value.hashCode())) {
            return;
        }
        Descriptor d = null;
        try {
            d = from == null ? null : from.getDescriptorForTypeUrl(url);
            if (d == null) {
                d = KNOWN_REGISTRY.getDescriptorForTypeUrl(url);
            }
        } catch (InvalidProtocolBufferException e) {
            return;
        }
        if (d == null) {
            return; // printing will name the type; nothing to add
        }
        out.add(d);
        try {
            collectAnyTypes(DynamicMessage.parseFrom(d, value), from, out, seen);
        } catch (InvalidProtocolBufferException e) {
            // the printer reports a value that does not parse
        }
    }
}
