package dev.legate.host.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.LoadBalancerContext;
import dev.legate.host.stats.StatsStore;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.net.InetSocketAddress;
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

    /** A host set as ClusterImpl publishes it: with {@code lb}'s table built. */
    private static HostSet set(LoadBalancer lb, HostImpl... hosts) {
        return new HostSet(List.of(hosts), 50, lb);
    }

    /** Envoy's test {@code TestLoadBalancerContext}: a hash, a host selection retry count, a host predicate. */
    private record Ctx(Long hash, int retries, Predicate<Host> skip) implements LoadBalancerContext {
        Ctx(Long hash) {
            this(hash, 0, h -> false);
        }

        @Override
        public Long hashKey() {
            return hash;
        }

        @Override
        public int hostSelectionRetryCount() {
            return retries;
        }

        @Override
        public boolean shouldSelectAnotherHost(Host host) {
            return skip.test(host);
        }
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
            c.merge(lb.chooseHost(set, new Ctx(k)), 1, Integer::sum);
        }
        return c;
    }

    private static HostImpl[] picks(LoadBalancer lb, HostSet set, long[] keys) {
        HostImpl[] out = new HostImpl[keys.length];
        for (int i = 0; i < keys.length; i++) {
            out[i] = lb.chooseHost(set, new Ctx(keys[i]));
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
        for (LoadBalancer lb : balancers()) {
            Map<HostImpl, Integer> c = counts(lb, set(lb, hosts), keys());
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
        for (LoadBalancer lb : balancers()) {
            Map<HostImpl, Integer> c = counts(lb, set(lb, heavy, light), keys());
            assertThat((double) c.get(heavy) / KEYS).as(lb.getClass().getSimpleName()).isBetween(0.70, 0.80);
        }
    }

    @Test
    void removingAHostKeepsMostOtherKeysInPlace() {
        HostImpl a = host(1, 1);
        HostImpl b = host(2, 1);
        HostImpl c = host(3, 1);
        HostImpl d = host(4, 1);
        long[] keys = keys();
        for (LoadBalancer lb : balancers()) {
            int stayed = 0;
            int others = 0;
            HostImpl[] first = picks(lb, set(lb, a, b, c, d), keys);
            HostImpl[] second = picks(lb, set(lb, a, b, d), keys);
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
    void withoutAHashKeyUsesARandomHash() {
        for (LoadBalancer lb : balancers()) {
            HostSet set = set(lb, host(1, 1), host(2, 1), host(3, 1));
            Set<HostImpl> seen = new HashSet<>();
            for (int i = 0; i < 300; i++) {
                seen.add(lb.chooseHost(set, new Ctx(null)));
            }
            // 300 draws miss one of 3 equal hosts with probability about 3 * (2/3)^300 < 1e-50.
            assertThat(seen).hasSize(3);
        }
    }

    @Test
    void ringSizeFollowsEnvoy() {
        RingHashLoadBalancer lb = new RingHashLoadBalancer(1024, ClusterSettings.MAX_RING_SIZE,
                RingHashLoadBalancer.HashFunction.XX_HASH, false);
        // 3 equal hosts: ceil(1/3 * 1024) / (1/3) = 1026 points, 342 each.
        RingHashLoadBalancer.Ring ring = (RingHashLoadBalancer.Ring) set(lb, host(1, 1), host(2, 1), host(3, 1)).hashTable;
        assertThat(ring.size()).isEqualTo(1026);
        assertThat(ring.minHashesPerHost).isEqualTo(342);
        assertThat(ring.maxHashesPerHost).isEqualTo(342);
        // maximum_ring_size caps it.
        RingHashLoadBalancer small = new RingHashLoadBalancer(8, 8, RingHashLoadBalancer.HashFunction.XX_HASH, false);
        assertThat(((RingHashLoadBalancer.Ring) set(small, host(1, 1), host(2, 1), host(3, 1)).hashTable).size())
                .isEqualTo(8);
    }

    @Test
    void hashFunctionsMatchTheirReferenceValues() {
        // XXH64("", 0) and XXH64("abc", 0): the reference implementation's test vectors.
        assertThat(HashFunctions.xxHash64("", 0)).isEqualTo(0xef46db3751d8e999L);
        assertThat(HashFunctions.xxHash64("abc", 0)).isEqualTo(0x44bc2cf5ad770999L);
        byte[] buf = "abcdef".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(HashFunctions.xxHash64(buf, 3, 0)).isEqualTo(0x44bc2cf5ad770999L);
        // MurmurHash2-64 as libstdc++'s std::hash<std::string> with seed 0xc70f6907 (Envoy's murmurHash2).
        // Values printed by g++/libstdc++'s std::hash<std::string> on x86-64.
        assertThat(HashFunctions.murmurHash2("")).isEqualTo(0x553e93901e462a6eL);
        assertThat(HashFunctions.murmurHash2("foo")).isEqualTo(0x85a8e535edf11e5aL);
        assertThat(HashFunctions.murmurHash2("hello world")).isEqualTo(0x4d6686d362067ff9L);
        assertThat(HashFunctions.murmurHash2("0123456789abcdef_x")).isEqualTo(0x2548b2abeab9ea80L);
        assertThat(HashFunctions.murmurHash2("foox".getBytes(java.nio.charset.StandardCharsets.UTF_8), 3))
                .isEqualTo(0x85a8e535edf11e5aL);
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
            long[] keys = keys();
            HostImpl[] first = picks(lb, set(lb, a1, b1), keys);
            HostImpl[] second = picks(lb, set(lb, a2, b2), keys);
            Set<String> names = new HashSet<>();
            for (int i = 0; i < keys.length; i++) {
                assertThat(second[i].hostname()).isEqualTo(first[i].hostname());
                names.add(first[i].hostname());
            }
            assertThat(names).containsExactlyInAnyOrder("redis-a", "redis-b");
        }
    }

    // The table is built where the host set is built, never by a pick.

    @Test
    void tableIsBuiltWithTheHostSetAndPicksNeverBuild() throws Exception {
        AtomicInteger builds = new AtomicInteger();
        ThreadAwareLoadBalancer counting = new ThreadAwareLoadBalancer() {
            private final MaglevLoadBalancer inner = new MaglevLoadBalancer(251, false);

            @Override
            HashTable buildTable(HostImpl[] hosts) {
                builds.incrementAndGet();
                return inner.buildTable(hosts);
            }
        };
        HostSet set = set(counting, host(1, 1), host(2, 1), host(3, 1));
        assertThat(builds).hasValue(1);
        assertThat(set.hashTable).isNotNull();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Integer>> picks = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long seed = t;
                picks.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    int chosen = 0;
                    for (int i = 0; i < 2000; i++) {
                        if (counting.chooseHost(set, new Ctx(i % 2 == 0 ? r.nextLong() : null)) != null) {
                            chosen++;
                        }
                    }
                    return chosen;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : picks) {
                assertThat(f.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(2000);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(builds).hasValue(1);
        // The balancers without a table build none.
        assertThat(set(new LoadBalancer.RoundRobin(), host(1, 1)).hashTable).isNull();
    }

    @Test
    void clusterPublishesTheTableWithItsHostSet() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}", 90, 91, 92);
        HostSet set = c.hostSet();
        assertThat(set.hashTable).isInstanceOf(RingHashLoadBalancer.Ring.class);
        assertThat(((RingHashLoadBalancer.Ring) set.hashTable).size()).isEqualTo(12);
        for (int i = 0; i < 100; i++) {
            c.chooseHost(new Ctx((long) i));
        }
        assertThat(c.hostSet()).isSameAs(set);
    }

    @Test
    void ringSortIsAnUnsignedPrimitiveSortCarryingTheOwners() {
        Random r = new Random(7);
        int n = 100_000;
        long[] keys = new long[n];
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            keys[i] = i % 1000 == 0 ? keys[Math.max(0, i - 1)] : r.nextLong(); // some duplicates, both signs
            values[i] = i;
        }
        long[] original = keys.clone();
        RingHashLoadBalancer.sortUnsigned(keys, values, n);
        Long[] expected = new Long[n];
        for (int i = 0; i < n; i++) {
            expected[i] = original[i];
        }
        java.util.Arrays.sort(expected, Long::compareUnsigned);
        int misplaced = 0;
        for (int i = 0; i < n; i++) {
            boolean stable = i == 0 || keys[i - 1] != keys[i] || values[i - 1] < values[i];
            if (keys[i] != expected[i] || original[values[i]] != keys[i] || !stable) {
                misplaced++;
            }
        }
        assertThat(misplaced).isZero();
    }

    // Placement against Envoy's own tests (test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc
    // and maglev/maglev_lb_test.cc): same hosts, same config, same hash -> the host Envoy's test expects.

    private static final StatsStore STATS = new StatsStore();

    /**
     * A STATIC cluster of 127.0.0.1:{ports}; {@code lbEndpointFields(port)} adds fields to each lb_endpoint
     * ({@code "health_status: X"}, {@code "metadata: ..."}, {@code "load_balancing_weight: N"}, or
     * {@code "hostname: x"}, which goes into its endpoint).
     */
    private static ClusterImpl cluster(String lbConfig, java.util.function.IntFunction<String> lbEndpointFields,
            int... ports) {
        StringBuilder eps = new StringBuilder();
        for (int p : ports) {
            String extra = lbEndpointFields.apply(p);
            boolean hostname = extra.startsWith("hostname:");
            eps.append("    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: ").append(p)
                    .append("}}").append(hostname ? ", " + extra : "").append("}\n");
            if (!extra.isEmpty() && !hostname) {
                eps.append("      ").append(extra).append("\n");
            }
        }
        ClusterSettings s = ClusterSettings.of(UpstreamTestSupport.cluster("""
                name: envoy
                connect_timeout: 1s
                %s
                load_assignment:
                  cluster_name: envoy
                  endpoints:
                  - lb_endpoints:
                %s""".formatted(lbConfig, eps)), "static_resources.clusters[0]");
        return new ClusterImpl(s, STATS.root(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
    }

    private static ClusterImpl cluster(String lbConfig, int... ports) {
        return cluster(lbConfig, p -> "", ports);
    }

    private static int port(Host h) {
        return h.address().getPort();
    }

    private static int pick(ClusterImpl c, long hash) {
        return port(c.chooseHost(new Ctx(hash)));
    }

    private static void assertRing(ClusterImpl c, String... hashAndPort) {
        RingHashLoadBalancer.Ring ring = (RingHashLoadBalancer.Ring) c.hostSet().hashTable;
        assertThat(ring.size()).isEqualTo(hashAndPort.length);
        for (int i = 0; i < hashAndPort.length; i++) {
            String[] hp = hashAndPort[i].split(" ");
            assertThat(Long.toUnsignedString(ring.hashes[i]) + " " + port(ring.hosts[i])).as("ring[" + i + "]")
                    .isEqualTo(hp[1] + " " + hp[0]);
        }
    }

    /** The ring of Envoy's Basic and BasicWithRetryHostPredicate tests (xxHash, 6 hosts, minimum_ring_size 12). */
    private static final String[] BASIC_RING = {"94 833437586790550860", "92 928266305478181108",
        "90 1033482794131418490", "95 3551244743356806947", "93 3851675632748031481", "91 5583722120771150861",
        "91 6311230543546372928", "93 7700377290971790572", "95 13144177310400110813", "92 13444792449719432967",
        "94 15516499411664133160", "90 16117243373044804889"};

    @Test
    void envoyRingHashBasic() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}",
                90, 91, 92, 93, 94, 95);
        assertRing(c, BASIC_RING);
        RingHashLoadBalancer.Ring ring = (RingHashLoadBalancer.Ring) c.hostSet().hashTable;
        assertThat(ring.minHashesPerHost).isEqualTo(2);
        assertThat(ring.maxHashesPerHost).isEqualTo(2);
        assertThat(pick(c, 0)).isEqualTo(94);
        assertThat(pick(c, -1L)).isEqualTo(94); // uint64 max wraps to the first point
        assertThat(pick(c, 3551244743356806947L)).isEqualTo(95);
        assertThat(pick(c, 3551244743356806948L)).isEqualTo(93);
        // Envoy's test feeds this as the random value of a request without a hash: it is used as the hash.
        assertThat(pick(c, Long.parseUnsignedLong("16117243373044804880"))).isEqualTo(90);
    }

    @Test
    void envoyRingHashBasicInPanic() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}",
                p -> "health_status: UNHEALTHY", 90, 91, 92, 93, 94, 95);
        assertThat(c.hostSet().panic).isTrue();
        assertRing(c, BASIC_RING);
        assertThat(pick(c, 0)).isEqualTo(94);
    }

    @Test
    void envoyRingHashBasicWithMurmur2() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12, "
                + "hash_function: MURMUR_HASH_2}", 80, 81, 82, 83, 84, 85);
        assertRing(c, "85 1358027074129602068", "83 4361834613929391114", "84 7224494972555149682",
                "81 7701421856454313576", "82 8649315368077433379", "84 8739448859063030639",
                "81 9887544217113020895", "82 10150910876324007731", "83 15168472011420622455",
                "80 15427156902705414897", "85 16375050414328759093", "80 17613279263364193813");
        assertThat(pick(c, 0)).isEqualTo(85);
        assertThat(pick(c, -1L)).isEqualTo(85);
        assertThat(pick(c, 1358027074129602068L)).isEqualTo(85);
        assertThat(pick(c, 1358027074129602069L)).isEqualTo(83);
        assertThat(pick(c, Long.parseUnsignedLong("10150910876324007730"))).isEqualTo(82);
    }

    /** Envoy's BasicWithHostname / BasicWithMetadataHashKey ring: hosts keyed "90".."95". */
    private static final String[] NAMED_RING = {"95 1975508444536362413", "95 2376063919839173711",
        "93 2386806903309390596", "94 6749904478991551885", "93 6803900775736438537", "92 7225015537174310577",
        "90 8787465352164086522", "92 11282020843382717940", "91 13723418369486627818", "90 13776502110861797421",
        "91 14338313586354474791", "94 15364271037087512980"};

    private static void assertNamedRing(ClusterImpl c) {
        assertRing(c, NAMED_RING);
        assertThat(pick(c, 0)).isEqualTo(95);
        assertThat(pick(c, -1L)).isEqualTo(95);
        assertThat(pick(c, 7225015537174310577L)).isEqualTo(92);
        assertThat(pick(c, 6803900775736438537L)).isEqualTo(93);
    }

    @Test
    void envoyRingHashBasicWithHostname() {
        assertNamedRing(cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}\n"
                + "common_lb_config: {consistent_hashing_lb_config: {use_hostname_for_hashing: true}}",
                p -> "hostname: \"" + p + "\"", 90, 91, 92, 93, 94, 95));
    }

    @Test
    void envoyRingHashBasicWithMetadataHashKey() {
        // As Envoy's test: use_hostname_for_hashing set, no hostname, hash_key metadata.
        java.util.function.IntFunction<String> meta = p -> "metadata: {filter_metadata: {envoy.lb: {hash_key: \""
                + p + "\"}}}";
        assertNamedRing(cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}\n"
                + "common_lb_config: {consistent_hashing_lb_config: {use_hostname_for_hashing: true}}",
                meta, 90, 91, 92, 93, 94, 95));
        // hash_key wins over the address too (and over a hostname).
        assertNamedRing(cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}",
                meta, 90, 91, 92, 93, 94, 95));
    }

    @Test
    void envoyRingHashBasicWithRetryHostPredicate() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 12}",
                90, 91, 92, 93, 94, 95);
        assertThat(port(c.chooseHost(new Ctx(0L)))).isEqualTo(94);
        // First attempt succeeds even when retry count is > 0.
        assertThat(port(c.chooseHost(new Ctx(0L, 2, h -> false)))).isEqualTo(94);
        // Second attempt chooses the next host in the ring.
        assertThat(port(c.chooseHost(new Ctx(0L, 2, h -> port(h) == 94)))).isEqualTo(92);
        // Exhausted retries return the last checked host.
        assertThat(port(c.chooseHost(new Ctx(0L, 2, h -> true)))).isEqualTo(90);
        // Retries wrap around the ring.
        assertThat(port(c.chooseHost(new Ctx(0L, 13, h -> true)))).isEqualTo(92);
    }

    @Test
    void envoyRingHashUnevenHosts() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 3}", 80, 81);
        assertRing(c, "80 5454692015285649509", "81 7859399908942313493", "80 13838424394637650569",
                "81 16064866803292627174");
        assertThat(pick(c, 0)).isEqualTo(80);
        c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 3}", 81, 82);
        assertRing(c, "81 7859399908942313493", "82 8241336090459785962", "82 12882406409176325258",
                "81 16064866803292627174");
        assertThat(pick(c, 0)).isEqualTo(81);
    }

    @Test
    void envoyRingHashHostWeightedTinyRing() {
        ClusterImpl c = cluster("lb_policy: RING_HASH\nring_hash_lb_config: {minimum_ring_size: 6, "
                + "maximum_ring_size: 6}", p -> "load_balancing_weight: " + (p - 89), 90, 91, 92);
        RingHashLoadBalancer.Ring ring = (RingHashLoadBalancer.Ring) c.hostSet().hashTable;
        assertThat(ring.size()).isEqualTo(6);
        assertThat(ring.minHashesPerHost).isEqualTo(1);
        assertThat(ring.maxHashesPerHost).isEqualTo(3);
        Map<String, Integer> expected = Map.of("928266305478181108", 92, "4443673547860492590", 92,
                "5583722120771150861", 91, "6311230543546372928", 91, "13444792449719432967", 92,
                "16117243373044804889", 90);
        expected.forEach((hash, p) -> assertThat(pick(c, Long.parseUnsignedLong(hash))).as(hash).isEqualTo(p));
    }

    private static void assertMaglev(ClusterImpl c, int[] expectedPorts) {
        for (int i = 0; i < 3 * expectedPorts.length; i++) {
            assertThat(pick(c, i)).as("hash " + i).isEqualTo(expectedPorts[i % expectedPorts.length]);
        }
    }

    @Test
    void envoyMaglevBasic() {
        ClusterImpl c = cluster("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 7}", 90, 91, 92, 93, 94, 95);
        MaglevLoadBalancer.Table t = (MaglevLoadBalancer.Table) c.hostSet().hashTable;
        assertThat(t.minEntriesPerHost).isEqualTo(1);
        assertThat(t.maxEntriesPerHost).isEqualTo(2);
        assertMaglev(c, new int[] {92, 94, 90, 91, 95, 90, 93});
    }

    @Test
    void envoyMaglevBasicStabilityIgnoresHostOrder() {
        ClusterImpl c = cluster("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 7}", 93, 95, 90, 94, 92, 91);
        assertMaglev(c, new int[] {92, 94, 90, 91, 95, 90, 93});
    }

    @Test
    void envoyMaglevBasicWithHostnameAndWithMetadataHashKey() {
        int[] expected = {92, 95, 90, 93, 94, 91, 90};
        String config = "lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 7}\n"
                + "common_lb_config: {consistent_hashing_lb_config: {use_hostname_for_hashing: true}}";
        assertMaglev(cluster(config, p -> "hostname: \"" + p + "\"", 90, 91, 92, 93, 94, 95), expected);
        assertMaglev(cluster(config, p -> "metadata: {filter_metadata: {envoy.lb: {hash_key: \"" + p + "\"}}}",
                90, 91, 92, 93, 94, 95), expected);
    }

    @Test
    void envoyMaglevBasicWithRetryHostPredicate() {
        ClusterImpl c = cluster("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 7}", 90, 91, 92, 93, 94, 95);
        assertThat(port(c.chooseHost(new Ctx(10L)))).isEqualTo(91);
        assertThat(port(c.chooseHost(new Ctx(10L, 2, h -> false)))).isEqualTo(91);
        assertThat(port(c.chooseHost(new Ctx(10L, 2, h -> port(h) == 91)))).isEqualTo(90);
        assertThat(port(c.chooseHost(new Ctx(10L, 2, h -> true)))).isEqualTo(95);
    }

    @Test
    void envoyMaglevWeighted() {
        ClusterImpl c = cluster("lb_policy: MAGLEV\nmaglev_lb_config: {table_size: 17}",
                p -> "load_balancing_weight: " + (p - 89), 90, 91);
        MaglevLoadBalancer.Table t = (MaglevLoadBalancer.Table) c.hostSet().hashTable;
        assertThat(t.minEntriesPerHost).isEqualTo(6);
        assertThat(t.maxEntriesPerHost).isEqualTo(11);
        assertMaglev(c, new int[] {91, 90, 90, 91, 90, 91, 91, 90, 91, 91, 91, 91, 91, 90, 91, 90, 91});
    }

    @Test
    void retriesOfOtherPoliciesFollowTheRetryCount() {
        ClusterImpl c = cluster("lb_policy: ROUND_ROBIN", 90, 91);
        // Default count 1: two picks; round robin's second pick is the other host.
        assertThat(port(c.chooseHost(new Ctx(null, 1, h -> port(h) == 90)))).isEqualTo(91);
        assertThat(port(c.chooseHost(new Ctx(null, 1, h -> port(h) == 91)))).isEqualTo(90);
        // Count 0: one pick, returned even though refused.
        int first = port(c.chooseHost(new Ctx(null, 0, h -> true)));
        int second = port(c.chooseHost(new Ctx(null, 0, h -> true)));
        assertThat(first).isNotEqualTo(second);
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

    @Test
    void endpointHashKeyMetadata() {
        ClusterSettings s = ClusterSettings.of(UpstreamTestSupport.cluster("""
                name: r
                connect_timeout: 1s
                lb_policy: MAGLEV
                load_assignment:
                  cluster_name: r
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
                      metadata: {filter_metadata: {envoy.lb: {hash_key: "redis-0"}}}
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8002}}}
                      metadata: {filter_metadata: {envoy.lb: {hash_key: 7}, other: {x: y}}}
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8003}}}
                """), "static_resources.clusters[0]");
        // A string hash_key is used; a non-string one is ignored (as Envoy), as is other metadata.
        assertThat(s.endpoints).extracting(ClusterSettings.EndpointSpec::hashKey).containsExactly("redis-0", "", "");
    }
}
