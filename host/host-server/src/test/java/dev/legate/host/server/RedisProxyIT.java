package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * envoy.filters.network.redis_proxy through the real proxy to two real {@code redis-server}s (started here on
 * free loopback ports, no persistence, killed after), driven by {@code redis-cli} and Jedis.
 */
class RedisProxyIT {

    private static RedisServer a;
    private static RedisServer b;
    private static ServerSocket blackhole;
    private static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        a = new RedisServer();
        b = new RedisServer();
        blackhole = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()); // accepts, never answers
        proxy = new Proxy(config());
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (blackhole != null) {
            blackhole.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static String listener(String name, String statPrefix, String extra) {
        return """
                  - name: %s
                    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.redis_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
                          stat_prefix: %s
                %s
                """.formatted(name, statPrefix, extra.indent(10).stripTrailing());
    }

    static String config() {
        return "admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }\n"
                + "static_resources:\n  listeners:\n"
                + listener("redis", "cache", """
                        settings: { op_timeout: 5s }
                        prefix_routes:
                          routes:
                          - { prefix: "one:", remove_prefix: true, cluster: one }
                          - { prefix: "用户:", remove_prefix: true, cluster: one }
                          catch_all_route: { cluster: pair }""")
                + listener("auth", "guarded", """
                        settings: { op_timeout: 5s }
                        downstream_auth_password: { inline_string: "s3crét" }
                        prefix_routes: { catch_all_route: { cluster: pair } }""")
                + listener("slow", "slow", """
                        settings: { op_timeout: 0.3s }
                        prefix_routes: { catch_all_route: { cluster: blackhole } }""")
                + "  clusters:\n"
                + "  - " + Proxy.staticCluster("pair", "lb_policy: RING_HASH", a.port, b.port) + "\n"
                + "  - " + Proxy.staticCluster("one", "", b.port) + "\n"
                + "  - " + Proxy.staticCluster("blackhole", "", blackhole.getLocalPort()) + "\n";
    }

    private static Jedis jedis(String listener) {
        return jedis(proxy.port(listener));
    }

    private static Jedis jedis(int port) {
        return new Jedis(new HostAndPort("127.0.0.1", port), DefaultJedisClientConfig.builder()
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED).socketTimeoutMillis(10_000).build());
    }

    @Test
    void redisCliSetsAndGets() throws Exception {
        int port = proxy.port("redis");
        assertThat(redisCli(port, "SET", "cli:key", "hello world")).isEqualTo("OK");
        assertThat(redisCli(port, "GET", "cli:key")).isEqualTo("hello world");
        assertThat(redisCli(port, "PING")).isEqualTo("PONG");
        assertThat(redisCli(port, "KEYS", "*")).isEqualTo("unsupported command 'KEYS'");
        // The value reached one of the two servers, not both.
        try (Jedis da = jedis(a.port); Jedis db = jedis(b.port)) {
            assertThat((da.get("cli:key") == null) != (db.get("cli:key") == null)).isTrue();
        }
    }

    @Test
    void pipelinesTenThousandCommandsInOrder() {
        try (Jedis j = jedis("redis")) {
            Pipeline p = j.pipelined();
            List<Response<String>> sets = new ArrayList<>();
            List<Response<String>> gets = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                sets.add(p.set("pipe:" + i, "v" + i));
            }
            for (int i = 0; i < 5_000; i++) {
                gets.add(p.get("pipe:" + i));
            }
            p.sync();
            for (int i = 0; i < 5_000; i++) {
                assertThat(sets.get(i).get()).isEqualTo("OK");
                assertThat(gets.get(i).get()).isEqualTo("v" + i);
            }
        }
    }

    @Test
    void msetAndMgetAreSplitAcrossBothServersAndMerged() {
        int n = 200;
        String[] kv = new String[2 * n];
        String[] keys = new String[n];
        for (int i = 0; i < n; i++) {
            keys[i] = "split:" + i;
            kv[2 * i] = keys[i];
            kv[2 * i + 1] = "value-" + i;
        }
        try (Jedis j = jedis("redis"); Jedis da = jedis(a.port); Jedis db = jedis(b.port)) {
            assertThat(j.mset(kv)).isEqualTo("OK");
            List<String> got = j.mget(keys);
            for (int i = 0; i < n; i++) {
                assertThat(got.get(i)).isEqualTo("value-" + i);
            }
            // A missing key in the middle comes back as a null in its place.
            assertThat(j.mget("split:0", "split:missing", "split:1")).containsExactly("value-0", null, "value-1");
            Set<String> onA = new HashSet<>(da.keys("split:*"));
            Set<String> onB = new HashSet<>(db.keys("split:*"));
            assertThat(onA).isNotEmpty();
            assertThat(onB).isNotEmpty();
            assertThat(onA).doesNotContainAnyElementsOf(onB);
            Set<String> all = new HashSet<>(onA);
            all.addAll(onB);
            assertThat(all).containsExactlyInAnyOrder(keys);
            // Each key sits where the ring puts it: the proxy's GET finds every key, each server only its own.
            for (String k : onA) {
                assertThat(db.get(k)).isNull();
            }
            // DEL and EXISTS are split too; their counts are summed.
            assertThat(j.exists(keys)).isEqualTo(n);
            assertThat(j.del(keys)).isEqualTo(n);
            assertThat(da.keys("split:*")).isEmpty();
            assertThat(db.keys("split:*")).isEmpty();
        }
    }

    @Test
    void errorsAreEnvoys() {
        try (Jedis j = jedis("redis")) {
            assertThatThrownBy(() -> j.sendCommand(Protocol.Command.KEYS, "*"))
                    .isInstanceOf(JedisDataException.class).hasMessage("unsupported command 'KEYS'");
            assertThatThrownBy(() -> j.sendCommand(Protocol.Command.MSET, "a", "1", "b"))
                    .isInstanceOf(JedisDataException.class).hasMessage("wrong number of arguments for 'MSET' command");
            assertThatThrownBy(() -> j.sendCommand(Protocol.Command.EVAL, "return 1", "0"))
                    .isInstanceOf(JedisDataException.class).hasMessage("wrong number of arguments for 'EVAL' command");
            assertThatThrownBy(() -> j.sendCommand(Protocol.Command.GET))
                    .isInstanceOf(JedisDataException.class).hasMessage("invalid request");
            // Redis's own errors pass through unchanged.
            j.set("err:str", "x");
            assertThatThrownBy(() -> j.incr("err:str"))
                    .isInstanceOf(JedisDataException.class).hasMessage("ERR value is not an integer or out of range");
        }
    }

    @Test
    void transactionsRunOnTheFirstKeysServer() {
        try (Jedis j = jedis("redis")) {
            redis.clients.jedis.Transaction t = j.multi();
            t.set("{tx}a", "1");
            t.incr("{tx}a");
            t.get("{tx}a");
            assertThat(t.exec()).containsExactly("OK", 2L, "2");
            assertThat(j.get("{tx}a")).isEqualTo("2");
        }
    }

    @Test
    void prefixRouteRemovesThePrefixAndUsesItsCluster() {
        try (Jedis j = jedis("redis"); Jedis db = jedis(b.port)) {
            assertThat(j.set("one:routed", "r")).isEqualTo("OK");
            assertThat(db.get("routed")).isEqualTo("r");
            assertThat(j.get("one:routed")).isEqualTo("r");
            // A UTF-8 prefix matches the UTF-8 bytes Jedis sends, and exactly those bytes are removed.
            assertThat(j.set("用户:42", "u")).isEqualTo("OK");
            assertThat(db.get("42")).isEqualTo("u");
            assertThat(j.get("用户:42")).isEqualTo("u");
        }
    }

    @Test
    void authIsRequiredWhenAPasswordIsSet() {
        try (Jedis j = jedis("auth")) {
            assertThatThrownBy(() -> j.get("x")).isInstanceOf(JedisDataException.class)
                    .hasMessage("NOAUTH Authentication required.");
            assertThatThrownBy(() -> j.auth("s3cret")).isInstanceOf(JedisDataException.class)
                    .hasMessage("ERR invalid password");
            // A non-ASCII password compares as the UTF-8 bytes the client sends.
            assertThat(j.auth("s3crét")).isEqualTo("OK");
            assertThat(j.set("auth:k", "v")).isEqualTo("OK");
            assertThat(j.get("auth:k")).isEqualTo("v");
        }
    }

    @Test
    void opTimeoutAnswersUpstreamFailure() {
        try (Jedis j = jedis("slow")) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> j.get("k")).isInstanceOf(JedisDataException.class).hasMessage("upstream failure");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
        assertThat(proxy.counter("cluster.blackhole.upstream_rq_timeout")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void resp3AfterHello() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port("redis"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(("HELLO 3\r\nHSET r3:h f v\r\nHGETALL r3:h\r\nGET r3:missing\r\nMGET r3:missing r3:missing2\r\n"
                    + "DEL r3:h\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String expectTail = "%1\r\n$1\r\nf\r\n$1\r\nv\r\n" + "_\r\n" + "*2\r\n_\r\n_\r\n" + ":1\r\n";
            String got = readUntil(in, expectTail);
            assertThat(got).startsWith("%7\r\n$6\r\nserver\r\n");
            assertThat(got).contains("$5\r\nproto\r\n:3\r\n");
            assertThat(got).endsWith(":1\r\n" + expectTail);
        }
    }

    @Test
    void statsAreEnvoys() throws Exception {
        try (Jedis j = jedis("redis")) {
            j.set("stats:a", "1");
            j.get("stats:a");
            j.mget("stats:a", "stats:b");
            assertThatThrownBy(() -> j.sendCommand(Protocol.Command.FLUSHALL, "ASYNC")).isInstanceOf(JedisDataException.class);
        }
        String stats = proxy.admin("GET", "/stats").body();
        assertThat(stat(stats, "redis.cache.command.get.total")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.command.get.success")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.command.set.total")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.command.mget.total")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.splitter.unsupported_command")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.downstream_rq_total")).isGreaterThanOrEqualTo(4);
        assertThat(stat(stats, "redis.cache.downstream_cx_total")).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "redis.cache.downstream_cx_rx_bytes_total")).isGreaterThan(0);
        assertThat(stats).contains("redis.cache.command.get.latency: P0(");
        assertThat(stats).contains("redis.cache.downstream_rq_active: ");
        assertThat(stats).contains("redis.cache.splitter.invalid_request: ");
    }

    private static long stat(String stats, String name) {
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats");
    }

    private static String readUntil(InputStream in, String suffix) throws IOException {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[4096];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!sb.toString().endsWith(suffix) && System.nanoTime() < deadline) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            sb.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
        return sb.toString();
    }

    private static String redisCli(int port, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** A {@code redis-server} on a free loopback port, without persistence; killed by {@link #close()}. */
    static final class RedisServer implements AutoCloseable {
        final int port;
        final Process process;

        RedisServer() throws Exception {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            process = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "no")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(1000);
                    if (s.getInputStream().read() == '+') {
                        return;
                    }
                } catch (IOException e) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        process.destroyForcibly();
                        throw new IllegalStateException("redis-server did not start on port " + port, e);
                    }
                    Thread.sleep(50);
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
