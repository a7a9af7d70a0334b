package dev.legate.filters.network.mongoproxy;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * mongo_proxy's {@code access_log} file (Envoy's {@code AccessLog} in {@code proxy.cc}): one JSON object per
 * decoded message and line, {@code {"time": "<UTC, ms>", "message": <message>, "upstream_host": "<ip:port or
 * ->"}}.
 *
 * <p>{@link #log} never blocks and never does I/O: it queues the line (lock-free) and a daemon writer thread
 * appends batches of whole lines to the file (opened with {@code CREATE, APPEND}), at once when idle and at
 * least every second. At most {@link #MAX_QUEUED_LINES} lines wait; more are dropped with a warning (Envoy's
 * file buffer has no bound; an unbounded queue would let a stalled disk exhaust the heap). {@link #close()}
 * writes what is queued and closes the file. Thread-safe.
 */
final class MongoAccessLog implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MongoAccessLog.class);

    /** Lines queued at most; beyond, lines are dropped. */
    static final int MAX_QUEUED_LINES = 100_000;

    /** Envoy's {@code AccessLogDateTimeFormatter}: {@code %Y-%m-%dT%H:%M:%E3SZ}. */
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Path path;
    private final OutputStream out;
    private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final Thread writer;
    private volatile boolean closed;
    private volatile boolean dropWarned;

    private MongoAccessLog(Path path, OutputStream out) {
        this.path = path;
        this.out = out;
        this.writer = Thread.ofPlatform().daemon().name("mongo-access-log").unstarted(this::run);
    }

    /**
     * Opens (creates or appends to) {@code path} and starts the writer thread. Called on the main thread.
     *
     * @throws IOException when the file cannot be opened
     */
    static MongoAccessLog open(Path path) throws IOException {
        requireNonNull(path, "path");
        OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                StandardOpenOption.WRITE);
        MongoAccessLog l = new MongoAccessLog(path, out);
        l.writer.start();
        return l;
    }

    /** The file. */
    Path path() {
        return path;
    }

    /**
     * Queues one line. Any thread; never blocks.
     *
     * @param timeMillis   when, in milliseconds since the epoch
     * @param message      the message as JSON ({@link MongoMessage#toLogJson(boolean)})
     * @param upstreamHost the upstream host ({@code ip:port}), or {@code null}
     */
    void log(long timeMillis, String message, String upstreamHost) {
        if (closed) {
            return;
        }
        if (queued.incrementAndGet() > MAX_QUEUED_LINES) {
            queued.decrementAndGet();
            if (!dropWarned) {
                dropWarned = true;
                log.warn("mongo_proxy access log {}: more than {} lines queued; dropping lines", path,
                        MAX_QUEUED_LINES);
            }
            return;
        }
        queue.add("{\"time\": \"" + TIME.format(Instant.ofEpochMilli(timeMillis)) + "\", \"message\": " + message
                + ", \"upstream_host\": \"" + (upstreamHost == null ? "-" : upstreamHost) + "\"}\n");
        LockSupport.unpark(writer);
    }

    private void run() {
        StringBuilder batch = new StringBuilder(8192);
        while (true) {
            boolean stop = closed;
            for (String line = queue.poll(); line != null; line = queue.poll()) {
                queued.decrementAndGet();
                batch.append(line);
                if (batch.length() >= 64 * 1024) {
                    write(batch);
                }
            }
            write(batch);
            if (stop) {
                break;
            }
            LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(1));
        }
        try {
            out.close();
        } catch (IOException e) {
            log.warn("mongo_proxy access log {}: close failed: {}", path, e.toString());
        }
    }

    private void write(StringBuilder batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            out.write(batch.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            log.warn("mongo_proxy access log {}: write failed: {}", path, e.toString());
        }
        batch.setLength(0);
    }

    /** Writes what is queued, closes the file and ends the writer thread (waits up to 5 s). */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        LockSupport.unpark(writer);
        writer.join(5_000);
    }
}
