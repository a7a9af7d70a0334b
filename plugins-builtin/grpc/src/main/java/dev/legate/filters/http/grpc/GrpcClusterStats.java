package dev.legate.filters.http.grpc;

import static java.util.Objects.requireNonNull;

import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import dev.legate.api.http.RouteEntry;
import dev.legate.api.stats.Stats;
import dev.legate.api.upstream.ClusterManager;
import dev.legate.api.upstream.UpstreamCluster;
import dev.legate.api.http.GrpcCommon.RequestNames;

/**
 * The gRPC stats Envoy charges to the route's cluster (Envoy's {@code Grpc::ContextImpl},
 * source/common/grpc/context_impl.cc), under the cluster's stats scope {@code cluster.<name>.}:
 * <ul>
 *   <li>{@code <protocol>.<service>.<method>.<grpc-status>}, {@code ...success} (status 0) or {@code ...failure},
 *       and {@code ...total}, where {@code <protocol>} is {@code grpc} or {@code grpc-web};</li>
 *   <li>{@code grpc.<service>.<method>.request_message_count}, {@code ...response_message_count} and the
 *       histogram {@code ...upstream_rq_time} (milliseconds).</li>
 * </ul>
 * Without request names (a method outside {@code individual_method_stats_allowlist}, or
 * {@code stats_for_all_methods: false}) the {@code <service>.<method>.} part is left out, so such calls share one
 * bucket: {@code cluster.<name>.grpc.success}. The service keeps its dots, as in Envoy
 * ({@code grpc.testing.TestService}), unless {@code replace_dots_in_grpc_service_name} replaced them.
 *
 * <p>Names come from the request path, so meters are looked up per call, as Envoy's dynamic stat names are;
 * lookups are thread-safe. Stateless: static methods only, any thread.
 */
public final class GrpcClusterStats {

    /** The first element of the stat names. */
    public enum Protocol {
        /** {@code grpc.}: the grpc_stats filter (and message counts and times, whatever the protocol). */
        GRPC("grpc."),
        /** {@code grpc-web.}: the grpc_web filter's call counters. */
        GRPC_WEB("grpc-web.");

        final String prefix;

        Protocol(String prefix) {
            this.prefix = prefix;
        }
    }

    private GrpcClusterStats() {
    }

    /**
     * The stats scope of the route's cluster (Envoy's {@code decoder_callbacks_->clusterInfo()}), or {@code null}
     * when there is no route, the route answers directly, or the cluster is unknown. Call on the stream's loop.
     */
    public static Stats clusterScope(HttpFilterCallbacks callbacks) {
        Route route = callbacks.route();
        RouteEntry entry = route == null ? null : route.routeEntry();
        String name = entry == null ? null : entry.clusterName();
        ClusterManager clusters = name == null ? null : callbacks.clusterManager();
        UpstreamCluster cluster = clusters == null ? null : clusters.cluster(name);
        return cluster == null ? null : cluster.stats();
    }

    /**
     * Envoy's {@code chargeStat(cluster, protocol, request_names, grpc_status)}: nothing when {@code grpcStatus}
     * is {@code null}; otherwise the per-status counter, then success or failure, and total.
     *
     * @param cluster the cluster's scope, {@code cluster.<name>.}
     * @param names   the service and method, or {@code null} for the shared bucket
     */
    public static void chargeStatus(Stats cluster, Protocol protocol, RequestNames names, String grpcStatus) {
        if (grpcStatus == null) {
            return;
        }
        cluster.counter(name(protocol, names, grpcStatus)).inc();
        chargeSuccess(cluster, protocol, names, "0".equals(grpcStatus));
    }

    /** Envoy's {@code chargeStat(cluster, protocol, request_names, success)}: success or failure, and total. */
    public static void chargeSuccess(Stats cluster, Protocol protocol, RequestNames names, boolean success) {
        requireNonNull(cluster, "cluster");
        cluster.counter(name(protocol, names, success ? "success" : "failure")).inc();
        cluster.counter(name(protocol, names, "total")).inc();
    }

    /** {@code grpc.[<service>.<method>.]request_message_count} += {@code amount}. */
    public static void chargeRequestMessages(Stats cluster, RequestNames names, long amount) {
        cluster.counter(name(Protocol.GRPC, names, "request_message_count")).add(amount);
    }

    /** {@code grpc.[<service>.<method>.]response_message_count} += {@code amount}. */
    public static void chargeResponseMessages(Stats cluster, RequestNames names, long amount) {
        cluster.counter(name(Protocol.GRPC, names, "response_message_count")).add(amount);
    }

    /** Records {@code millis} in the histogram {@code grpc.[<service>.<method>.]upstream_rq_time}. */
    public static void chargeUpstreamTime(Stats cluster, RequestNames names, long millis) {
        cluster.histogram(name(Protocol.GRPC, names, "upstream_rq_time")).record(millis);
    }

    /** The stat name under the cluster's scope, e.g. {@code grpc.helloworld.Greeter.SayHello.success}. */
    public static String name(Protocol protocol, RequestNames names, String suffix) {
        if (names == null) {
            return protocol.prefix + suffix;
        }
        return protocol.prefix + names.service() + '.' + names.method() + '.' + suffix;
    }
}
