package dev.legate.host.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 origin for integration tests (the JDK's {@code HttpServer} on 127.0.0.1, port 0). Every
 * response carries {@code x-origin: <name>} so tests can see which endpoint served it. Paths:
 * <ul>
 *   <li>{@code /echo...}: 200, body = the request body, headers {@code x-seen-<name>} for a few request headers</li>
 *   <li>{@code /sha256}: 200, body = hex SHA-256 of the request body (for large uploads)</li>
 *   <li>{@code /bytes/<n>}: 200, {@code n} bytes of a repeating pattern, chunked</li>
 *   <li>{@code /slow/<ms>}: waits, then 200</li>
 *   <li>{@code /drain-after/<ms>}: waits without reading the body, then reads it all; 200 with its length</li>
 *   <li>{@code /flaky/<key>/<failures>}: 503 for the first {@code failures} calls with that key (counted across
 *       all origins of the test JVM), then 200</li>
 *   <li>{@code /status/<code>}: that status, body {@code status <code>}</li>
 *   <li>anything else: 200 with body {@code <name> <method> <path>}</li>
 * </ul>
 */
final class TestOrigin implements AutoCloseable {

    final String name;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(16);
    /** Shared by all origins: a retry that moves to another endpoint still sees the same count. */
    private static final Map<String, AtomicInteger> FLAKY = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** Body bytes written by {@code /bytes/...} so far, and read by {@code /drain-after/...} so far. */
    final java.util.concurrent.atomic.AtomicLong bodyBytesWritten = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong bodyBytesRead = new java.util.concurrent.atomic.AtomicLong();
    final List<Map<String, List<String>>> requestHeaders = new CopyOnWriteArrayList<>();

    TestOrigin(String name) throws IOException {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            requestHeaders.add(Map.copyOf(ex.getRequestHeaders()));
            ex.getResponseHeaders().add("x-origin", name);
            if (path.startsWith("/echo")) {
                byte[] body = ex.getRequestBody().readAllBytes();
                for (String h : List.of("host", "x-forwarded-for", "x-forwarded-proto", "x-request-id",
                        "x-envoy-expected-rq-timeout-ms", "x-envoy-original-path")) {
                    String v = ex.getRequestHeaders().getFirst(h);
                    if (v != null) {
                        ex.getResponseHeaders().add("x-seen-" + h, v);
                    }
                }
                send(ex, 200, body);
            } else if (path.equals("/sha256")) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                try (InputStream in = ex.getRequestBody()) {
                    byte[] buf = new byte[65536];
                    for (int n; (n = in.read(buf)) > 0; ) {
                        md.update(buf, 0, n);
                    }
                }
                send(ex, 200, HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII));
            } else if (path.startsWith("/bytes/")) {
                ex.getRequestBody().readAllBytes();
                long n = Long.parseLong(path.substring("/bytes/".length()));
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    byte[] chunk = pattern(65536);
                    for (long left = n; left > 0; left -= chunk.length) {
                        int k = (int) Math.min(chunk.length, left);
                        out.write(chunk, 0, k);
                        bodyBytesWritten.addAndGet(k);
                    }
                }
            } else if (path.startsWith("/drain-after/")) {
                Thread.sleep(Long.parseLong(path.substring("/drain-after/".length())));
                try (InputStream in = ex.getRequestBody()) {
                    byte[] buf = new byte[65536];
                    for (int k; (k = in.read(buf)) > 0; ) {
                        bodyBytesRead.addAndGet(k);
                    }
                }
                send(ex, 200, Long.toString(bodyBytesRead.get()).getBytes(StandardCharsets.US_ASCII));
            } else if (path.startsWith("/slow/")) {
                ex.getRequestBody().readAllBytes();
                Thread.sleep(Long.parseLong(path.substring("/slow/".length())));
                send(ex, 200, "slow done".getBytes(StandardCharsets.UTF_8));
            } else if (path.startsWith("/flaky/")) {
                ex.getRequestBody().readAllBytes();
                String[] p = path.split("/");
                int failures = Integer.parseInt(p[3]);
                int call = FLAKY.computeIfAbsent(p[2], k -> new AtomicInteger()).incrementAndGet();
                if (call <= failures) {
                    send(ex, 503, ("failure " + call).getBytes(StandardCharsets.UTF_8));
                } else {
                    send(ex, 200, ("ok after " + (call - 1) + " failures").getBytes(StandardCharsets.UTF_8));
                }
            } else if (path.startsWith("/status/")) {
                ex.getRequestBody().readAllBytes();
                int code = Integer.parseInt(path.substring("/status/".length()));
                send(ex, code, ("status " + code).getBytes(StandardCharsets.UTF_8));
            } else {
                ex.getRequestBody().readAllBytes();
                send(ex, 200, (name + " " + ex.getRequestMethod() + " " + path).getBytes(StandardCharsets.UTF_8));
            }
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** The byte pattern {@code /bytes/n} sends: {@code i % 251} at offset i. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    private static void send(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.getResponseHeaders().add("content-type", "text/plain");
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            ex.getResponseBody().write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
