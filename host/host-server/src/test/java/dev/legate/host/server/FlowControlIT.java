package dev.legate.host.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Back-pressure both ways: when one side stops reading, Legate stops reading the other side (watermarks at
 * {@code per_connection_buffer_limit_bytes}), so a body far larger than every buffer on the way cannot pile up
 * in the proxy. Without it, loopback would move the whole 256 MiB into Legate's memory within the pause.
 */
class FlowControlIT {

    static final long BODY = 256L << 20;
    /**
     * Socket buffers (send and receive, both hops) plus the proxy's 1 MiB watermark: about 8-11 MiB here with
     * back-pressure; without it the origin got 60+ MiB ahead in the pause.
     */
    static final long BOUND = 32L << 20;

    static TestOrigin origin;
    static Proxy proxy;

    @BeforeAll
    static void start() throws Exception {
        origin = new TestOrigin("o");
        String routes = "{ virtual_hosts: [ { name: all, domains: [\"*\"], routes: [ { match: { prefix: \"/\" }, route: { cluster: o, timeout: 60s } } ] } ] }";
        proxy = new Proxy(Proxy.httpConfig(routes, "[ " + Proxy.staticCluster("o", "", origin.port()) + " ]"));
    }

    @AfterAll
    static void stop() {
        proxy.close();
        origin.close();
    }

    @Test
    void aClientThatStopsReadingStopsTheOrigin() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port("listener_0"))) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("GET /bytes/" + BODY + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            long read = in.read(buf);  // the response has started
            Thread.sleep(3_000);       // ... and now the client reads nothing
            long aheadWhilePaused = origin.bodyBytesWritten.get();
            assertThat(aheadWhilePaused).as("origin bytes sent while the client did not read").isLessThan(BOUND);
            for (int n; (n = in.read(buf)) > 0; ) {
                read += n;
            }
            assertThat(read).isGreaterThan(BODY);  // headers + chunk framing + the whole body
            assertThat(origin.bodyBytesWritten.get()).isEqualTo(BODY);
        }
    }

    @Test
    void anOriginThatStopsReadingStopsTheClient() throws Exception {
        AtomicLong sent = new AtomicLong();
        try (Socket s = new Socket("127.0.0.1", proxy.port("listener_0"))) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /drain-after/3000 HTTP/1.1\r\nHost: x\r\nContent-Length: " + BODY
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[65536];
                try {
                    for (long left = BODY; left > 0; left -= chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, left));
                        sent.addAndGet(Math.min(chunk.length, left));
                    }
                    out.flush();
                } catch (Exception ignored) {
                    // the assertions below report a short upload
                }
            });
            writer.start();
            Thread.sleep(2_500);  // the origin sleeps 3 s before it reads a byte
            assertThat(sent.get()).as("client bytes accepted while the origin did not read").isLessThan(BOUND);
            writer.join(30_000);
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("\r\n\r\n" + BODY);
        }
    }
}
