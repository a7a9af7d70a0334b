package dev.legate.host.upstream;

import dev.legate.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream endpoint (Envoy's {@code HostImpl}) with the per-host stats {@code /clusters} prints. Stats
 * are lock-free and updated by the pools of every event loop.
 *
 * <p>Immutable except for a {@code LOGICAL_DNS} cluster's single host, whose {@link #address()} follows the
 * latest DNS answer (Envoy's {@code LogicalHost}): new connections use the newest address, existing ones are
 * kept.
 */
final class HostImpl implements Host {

    private volatile InetSocketAddress address;
    private volatile String addressString;
    private final String hostname;
    private final int weight;
    private final HealthStatus healthStatus;
    private final Locality locality;
    private final int priority;
    /** {@code metadata.filter_metadata["envoy.lb"].hash_key}, or "" when not set. */
    private final String hashKey;

    // Per-host stats (Envoy's HostStats), shown by /clusters.
    final LongAdder cxTotal = new LongAdder();
    final AtomicLong cxActive = new AtomicLong();
    final LongAdder cxConnectFail = new LongAdder();
    final LongAdder rqTotal = new LongAdder();
    final AtomicLong rqActive = new AtomicLong();
    final LongAdder rqSuccess = new LongAdder();
    final LongAdder rqError = new LongAdder();
    final LongAdder rqTimeout = new LongAdder();

    HostImpl(InetSocketAddress address, String hostname, int weight, HealthStatus healthStatus, Locality locality,
            int priority) {
        this(address, hostname, weight, healthStatus, locality, priority, "");
    }

    /**
     * @param hashKey the endpoint's {@code metadata.filter_metadata["envoy.lb"].hash_key} ("" or null: none),
     *                which the consistent-hash balancers place the host by instead of its address
     */
    HostImpl(InetSocketAddress address, String hostname, int weight, HealthStatus healthStatus, Locality locality,
            int priority, String hashKey) {
        this.hostname = hostname == null ? "" : hostname;
        this.hashKey = hashKey == null ? "" : hashKey;
        this.weight = Math.max(1, weight);
        this.healthStatus = healthStatus;
        this.locality = locality;
        this.priority = priority;
        setAddress(address);
    }

    void setAddress(InetSocketAddress address) {
        this.address = address;
        this.addressString = NetUtil.toSocketAddressString(address);
    }

    // Host

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public String addressString() {
        return addressString;
    }

    @Override
    public String hostname() {
        return hostname;
    }

    @Override
    public int weight() {
        return weight;
    }

    @Override
    public long activeRequests() {
        return rqActive.get();
    }

    /** Whether the load balancer may choose this host ({@code health_status} UNKNOWN or HEALTHY). */
    boolean healthy() {
        return healthStatus == HealthStatus.UNKNOWN || healthStatus == HealthStatus.HEALTHY;
    }

    boolean degraded() {
        return healthStatus == HealthStatus.DEGRADED;
    }

    /** Envoy's {@code health_flags} text for {@code /clusters}. */
    String healthFlags() {
        return switch (healthStatus) {
            case UNHEALTHY, TIMEOUT -> "/failed_eds_health";
            case DRAINING -> "/failed_eds_health/eds_status_draining";
            case DEGRADED -> "/degraded_eds_health";
            default -> "healthy";
        };
    }

    Locality locality() {
        return locality;
    }

    int priority() {
        return priority;
    }

    /** {@code metadata.filter_metadata["envoy.lb"].hash_key}, or "" when the endpoint has none. */
    String hashKey() {
        return hashKey;
    }

    /** A stream ended: {@code error} for a 5xx or a reset (Envoy's {@code rq_error}), else {@code rq_success}. */
    void requestDone(boolean error) {
        rqActive.decrementAndGet();
        if (error) {
            rqError.increment();
        } else {
            rqSuccess.increment();
        }
    }

    @Override
    public String toString() {
        return addressString;
    }
}
