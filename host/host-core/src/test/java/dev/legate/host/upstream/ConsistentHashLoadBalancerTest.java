package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RING_HASH and MAGLEV: config, distribution, weights, stability when a host leaves, no-hash behaviour. */
class ConsistentHashLoadBalancerTest {

    private static final int KEYS = 20_000;

    private static HostImpl host(int i, int weight) {
        return new HostImpl(new InetSocketAddress("127.0.0." + i, 6379), "", weight, HealthStatus.HEALTHY,
                Locality.getDefaultInstance(), 0);
    }

    private static HostSet set(HostImpl... hosts) {
        return new HostSet(List.of(hosts), 50);
    }

    private static long[] keys() {
        Random r = new Random(42);
        long[] k = new long[KEYS];
        for (int i = 0; i < KEYS; i++) {
            k[i] = r.nextLong();
        }
        return k;
    }

    private static Map<HostImpl, Integer> counts(LoadBalancer lb, HostSet set, long[] keys) {
        Map<HostImpl, Integer> c = new HashMap<>();
        for (long k : keys) {
            c.merge(lb.pick(set, k), 1, Integer::sum);
        }
        return c;
    }

    private static HostImpl[] picks(LoadBalancer lb, HostSet set, long[] keys) {
        HostImpl[] out = new HostImpl[keys.length];
        for (int i = 0; i < keys.length; i++) {
            out[i] = lb.pick(set, keys[i]);
        }
        return out;
    }

    private static List<LoadBalancer> balancers() {
        return List.of(new RingHashLoadBalancer(1024, ClusterSettings.MAX_RING_SIZE,
                        RingHashLoadBalancer.HashFunction.XX_HASH, false),
                new RingHashLoadBalancer(1024, ClusterSettings.MAX_RING_SIZE,
                        RingHashLoadBalancer.HashFunction.MURMUR_HASH_2, false),
                new MaglevLoadBalancer(MaglevLoadBalancer.DEFAULT_TABLE_SIZE, false));
    }

    @Test
    void spreadsKeysEvenlyOverEqualHosts() {
        HostImpl[] hosts = {host(1, 1), host(2, 1), host(3, 1), host(4, 1)};
        HostSet set = set(hosts);
        for (LoadBalancer lb : balancers()) {
            Map<HostImpl, Integer> c = counts(lb, set, keys());
            assertThat(c).hasSize(4);
            // 25% each; a 1024-point ring keeps every host within a few points of it.
            for (HostImpl h : hosts) {
                assertThat(c.get(h)).as(lb.getClass().getSimpleName() + " " + h.addressString())
                        .isBetween(KEYS * 20 / 100, KEYS * 30 / 100);
            }
        }
    }

    @Test
    void followsWeights() {
        HostImpl heavy = host(1, 3);
        HostImpl light = host(2, 1);
        HostSet set = set(heavy, light);
        for (LoadBalancer lb : balancers()) {
            Map<HostImpl, Integer> c = counts(lb, set, keys());
            assertThat((double) c.get(heavy) / KEYS).as(lb.getClass().getSimpleName()).isBetween(0.70, 0.80);
        }
    }

    @Test
    void sameKeySameHost() {
        HostSet set = set(host(1, 1), host(2, 1), host(3, 1));
        for (LoadBalancer lb : balancers()) {
            for (long k : keys()) {
                assertThat(lb.pick(set, k)).isSameAs(lb.pick(set, k));
            }
        }
    }

    @Test
    void removingAHostKeepsMostOtherKeysInPlace() {
        HostImpl a = host(1, 1);
        HostImpl b = host(2, 1);
        HostImpl c = host(3, 1);
        HostImpl d = host(4, 1);
        HostSet before = set(a, b, c, d);
        HostSet after = set(a, b, d);
        long[] keys = keys();
        for (LoadBalancer lb : balancers()) {
            int stayed = 0;
            int others = 0;
            // All picks of one set, then of the other: the table is rebuilt only when the set changes.
            HostImpl[] first = picks(lb, before, keys);
            HostImpl[] second = picks(lb, after, keys);
            for (int i = 0; i < keys.length; i++) {
                HostImpl h0 = first[i];
                HostImpl h1 = second[i];
                assertThat(h1).isNotSameAs(c);
                if (h0 != c) {
                    others++;
                    if (h0 == h1) {
                        stayed++;
                    }
                }
            }
            // Only the removed host's quarter must move; the rest mostly stays. It does not all stay: Envoy
            // rescales the ring (256 -> 342 points per host here) and re-fills the Maglev table, so the
            // remaining hosts' new entries take some keys from each other (about 1 - 256/342 of them).
            assertThat((double) stayed / others).as(lb.getClass().getSimpleName()).isGreaterThan(0.70);
            // Nothing like a modulo hash, which would move about 3/4 of every host's keys.
        }
    }

    @Test
    void withoutAHashKeyPicksAtRandom() {
        HostSet set = set(host(1, 1), host(2, 1), host(3, 1));
        for (LoadBalancer lb : balancers()) {
            Set<HostImpl> seen = new HashSet<>();
            for (int i = 0; i < 300; i++) {
                seen.add(lb.pick(set, null));
            }
            // 300 draws miss one of 3 hosts with probability 3 * (2/3)^300 < 1e-50.
            assertThat(seen).hasSize(3);
        }
    }

    @Test
    void ringSizeFollowsEnvoy() {
        RingHashLoadBalancer lb = new RingHashLoadBalancer(1024, ClusterSettings.MAX_RING_SIZE,
                RingHashLoadBalancer.HashFunction.XX_HASH, false);
        // 3 equal hosts: ceil(1/3 * 1024) / (1/3) = 1026 points, 342 each.
        RingHashLoadBalancer.Ring ring = lb.table(set(host(1, 1), host(2, 1), host(3, 1)));
        assertThat(ring.size()).isEqualTo(1026);
        assertThat(ring.minHashesPerHost).isEqualTo(342);
        assertThat(ring.maxHashesPerHost).isEqualTo(342);
        // maximum_ring_size caps it.
        RingHashLoadBalancer small = new RingHashLoadBalancer(8, 8, RingHashLoadBalancer.HashFunction.XX_HASH, false);
        assertThat(small.table(set(host(1, 1), host(2, 1), host(3, 1))).size()).isEqualTo(8);
    }

    @Test
    void hashFunctionsMatchTheirReferenceValues() {
        // XXH64("", 0) and XXH64("abc", 0): the reference implementation's test vectors.
        assertThat(HashFunctions.xxHash64("", 0)).isEqualTo(0xef46db3751d8e999L);
        assertThat(HashFunctions.xxHash64("abc", 0)).isEqualTo(0x44bc2cf5ad770999L);
        // MurmurHash2-64 as libstdc++'s std::hash<std::string> with seed 0xc70f6907 (Envoy's murmurHash2).
        // Values printed by g++/libstdc++'s std::hash<std::string> on x86-64.
        assertThat(HashFunctions.murmurHash2("")).isEqualTo(0x553e93901e462a6eL);
        assertThat(HashFunctions.murmurHash2("foo")).isEqualTo(0x85a8e535edf11e5aL);
        assertThat(HashFunctions.murmurHash2("hello world")).isEqualTo(0x4d6686d362067ff9L);
        assertThat(HashFunctions.murmurHash2("0123456789abcdef_x")).isEqualTo(0x2548b2abeab9ea80L);
    }

    @Test
    void maglevFillsEveryEntryAndGivesEachHostItsShare() {
        MaglevLoadBalancer lb = new MaglevLoadBalancer(13, false);
        HostImpl a = host(1, 1);
        HostImpl b = host(2, 1);
        MaglevLoadBalancer.Table t = lb.table(set(a, b));
        List<HostImpl> slots = new ArrayList<>(List.of(t.slots));
        assertThat(slots).doesNotContainNull();
        long na = slots.stream().filter(h -> h == a).count();
        assertThat(na).isBetween(6L, 7L);
    }

    @Test
    void useHostnameForHashingPlacesHostsByName() {
        // Same names, new addresses: the keys stay with the same names.
        HostImpl a1 = new HostImpl(new InetSocketAddress("127.0.0.1", 1), "redis-a", 1, HealthStatus.HEALTHY,
                Locality.getDefaultInstance(), 0);
        HostImpl b1 = new HostImpl(new InetSocketAddress("127.0.0.2", 1), "redis-b", 1, HealthStatus.HEALTHY,
                Locality.getDefaultInstance(), 0);
        HostImpl a2 = new HostImpl(new InetSocketAddress("127.0.0.9", 2), "redis-a", 1, HealthStatus.HEALTHY,
                Locality.getDefaultInstance(), 0);
        HostImpl b2 = new HostImpl(new InetSocketAddress("127.0.0.8", 2), "redis-b", 1, HealthStatus.HEALTHY,
                Locality.getDefaultInstance(), 0);
        for (LoadBalancer lb : List.of(
                new RingHashLoadBalancer(1024, 1024, RingHashLoadBalancer.HashFunction.XX_HASH, true),
                new MaglevLoadBalancer(MaglevLoadBalancer.DEFAULT_TABLE_SIZE, true))) {
            HostSet before = set(a1, b1);
            HostSet after = set(a2, b2);
            long[] keys = keys();
            HostImpl[] first = picks(lb, before, keys);
            HostImpl[] second = picks(lb, after, keys);
            for (int i = 0; i < keys.length; i++) {
                assertThat(second[i].hostname()).isEqualTo(first[i].hostname());
            }
        }
    }

    // Config

    private static ClusterSettings settings(String extra) {
        return ClusterSettings.of(UpstreamTestSupport.cluster("""
                name: r
                connect_timeout: 1s
                %s
                load_assignment:
                  cluster_name: r
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                """.formatted(extra)), "static_resources.clusters[0]");
    }

    @Test
    void configDefaultsAndValues() {
        ClusterSettings s = settings("lb_policy: RING_HASH");
        assertThat(s.policy).isEqualTo(ClusterSettings.Policy.RING_HASH);
        assertThat(s.minimumRingSize).isEqualTo(1024);
        assertThat(s.maximumRingSize).isEqualTo(8 * 1024 * 1024);
        assertThat(s.ringHashFunction).isEqualTo(RingHashLoadBalancer.HashFunction.XX_HASH);
        s = settings("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 64, maximum_ring_size: 128, "
                + "hash_function: MURMUR_HASH_2}");
        assertThat(s.minimumRingSize).isEqualTo(64);
        assertThat(s.maximumRingSize).isEqualTo(128);
        assertThat(s.ringHashFunction).isEqualTo(RingHashLoadBalancer.HashFunction.MURMUR_HASH_2);
        s = settings("lb_policy: MAGLEV");
        assertThat(s.maglevTableSize).isEqualTo(65537);
        assertThat(s.useHostnameForHashing).isFalse();
        assertThat(settings("lb_policy: MAGLEV\ncommon_lb_config: {consistent_hashing_lb_config: "
                + "{use_hostname_for_hashing: true}}").useHostnameForHashing).isTrue();
        assertThat(settings("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 251}").maglevTableSize).isEqualTo(251);
    }

    @Test
    void configErrors() {
        assertThatThrownBy(() -> settings("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 9000000}"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("static_resources.clusters[0].ring_hash_lb_config.minimum_ring_size: 9000000 "
                        + "(expected: 1..8388608)");
        assertThatThrownBy(() -> settings("lb_policy: RING_HASH\nring_hash_lb_config: "
                + "{minimum_ring_size: 200, maximum_ring_size: 100}"))
                .hasMessage("static_resources.clusters[0].ring_hash_lb_config.minimum_ring_size: 200 "
                        + "(expected: <= maximum_ring_size 100)");
        assertThatThrownBy(() -> settings("lb_policy: RING_HASH\ncommon_lb_config: {consistent_hashing_lb_config: "
                + "{hash_balance_factor: 150}}"))
                .hasMessage("static_resources.clusters[0].common_lb_config.consistent_hashing_lb_config"
                        + ".hash_balance_factor: not supported yet");
        assertThatThrownBy(() -> settings("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 100}"))
                .hasMessage("static_resources.clusters[0].maglev_lb_config.table_size: 100 "
                        + "(expected: a prime number <= 5000011)");
    }
}
