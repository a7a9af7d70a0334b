package dev.legate.host.accesslog;

import dev.legate.api.stats.Counter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one background thread that writes every access log of the process ({@code legate-access-log}, a
 * daemon). Event loops hand it formatted lines through a lock-free queue and never wait: {@link #enqueue}
 * is a {@link ConcurrentLinkedQueue#offer} plus, only when the writer sleeps, one {@link LockSupport#unpark}.
 * The writer drains up to {@value #BATCH} lines, writes them to their sinks and flushes each sink it touched
 * once per batch.
 *
 * <p>Bounded: when {@value #MAX_QUEUED} lines wait already (a disk slower than the traffic), the line is
 * dropped and counted: {@link #droppedLines()} process-wide, and the logger's {@code access_log.dropped}
 * counter when it has one. A write error is logged (once per sink until it recovers) and the line is lost.
 *
 * <p>Sinks are shared per path, as Envoy's access log manager does: two loggers of one file write through
 * one stream, so lines never interleave mid-line. Files are opened in append mode and stay open for the
 * process's life.
 */
final class AccessLogWriter {

    /** Most lines waiting to be written; beyond it lines are dropped. */
    static final int MAX_QUEUED = 65536;

    /** Most lines written between two flushes. */
    static final int BATCH = 1024;

    private static final Logger LOG = LoggerFactory.getLogger(AccessLogWriter.class);
    private static final AccessLogWriter INSTANCE = new AccessLogWriter();

    private record Entry(Sink sink, String line) {
    }

    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder written = new LongAdder();
    private final Map<String, Sink> sinks = new ConcurrentHashMap<>();
    private volatile Thread thread;

    static AccessLogWriter get() {
        return INSTANCE;
    }

    /** Lines dropped because the queue was full, since the process started. */
    long droppedLines() {
        return dropped.sum();
    }

    /** Lines written (or attempted) since the process started. */
    long writtenLines() {
        return written.sum();
    }

    /** Lines waiting. */
    int queuedLines() {
        return queued.get();
    }

    /** The process's standard output (as {@link System#out} is at write time). */
    Sink stdout() {
        return sinks.computeIfAbsent("/dev/stdout", k -> new StreamSink(k, () -> System.out));
    }

    /** The process's standard error (as {@link System#err} is at write time). */
    Sink stderr() {
        return sinks.computeIfAbsent("/dev/stderr", k -> new StreamSink(k, () -> System.err));
    }

    /**
     * The file at {@code path} (absolute), opened for append on first use; {@code /dev/stdout} and
     * {@code /dev/stderr} are the standard streams.
     *
     * @throws IOException when the file cannot be opened (a config error for the caller)
     */
    Sink file(Path path) throws IOException {
        String key = path.toAbsolutePath().normalize().toString();
        if (key.equals("/dev/stdout")) {
            return stdout();
        }
        if (key.equals("/dev/stderr")) {
            return stderr();
        }
        Sink existing = sinks.get(key);
        if (existing != null) {
            return existing;
        }
        synchronized (sinks) { // config time only
            existing = sinks.get(key);
            if (existing == null) {
                Path parent = path.toAbsolutePath().getParent();
                if (parent != null && !Files.isDirectory(parent)) {
                    throw new IOException("directory " + parent + " does not exist");
                }
                OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
                existing = new FileSink(key, out);
                sinks.put(key, existing);
            }
            return existing;
        }
    }

    /**
     * Hands {@code line} to the writer. Never blocks; safe from any thread.
     *
     * @param droppedCounter counted when the line is dropped; may be {@code null}
     */
    void enqueue(Sink sink, String line, Counter droppedCounter) {
        if (queued.incrementAndGet() > MAX_QUEUED) {
            queued.decrementAndGet();
            dropped.increment();
            if (droppedCounter != null) {
                droppedCounter.inc();
            }
            return;
        }
        queue.offer(new Entry(sink, line));
        Thread t = thread;
        if (t == null) {
            t = start();
        }
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            LockSupport.unpark(t);
        }
    }

    private synchronized Thread start() {
        Thread t = thread;
        if (t == null) {
            t = new Thread(this::run, "legate-access-log");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
        return t;
    }

    private void run() {
        List<Sink> touched = new ArrayList<>(4);
        while (true) {
            int n = 0;
            Entry e;
            while (n < BATCH && (e = queue.poll()) != null) {
                queued.decrementAndGet();
                n++;
                if (!touched.contains(e.sink())) {
                    touched.add(e.sink());
                }
                e.sink().write(e.line());
            }
            if (n > 0) {
                written.add(n);
                for (Sink s : touched) {
                    s.flush();
                }
                touched.clear();
                continue;
            }
            sleeping.set(true);
            if (!queue.isEmpty()) {
                sleeping.set(false);
                continue;
            }
            LockSupport.parkNanos(this, 100_000_000L);
            sleeping.set(false);
        }
    }

    /** Where lines go. Used only by the writer thread after creation. */
    abstract static class Sink {
        private final String name;
        private boolean failing;

        Sink(String name) {
            this.name = name;
        }

        final void write(String line) {
            try {
                doWrite(line);
                failing = false;
            } catch (IOException | RuntimeException ex) {
                failed(ex);
            }
        }

        final void flush() {
            try {
                doFlush();
            } catch (IOException | RuntimeException ex) {
                failed(ex);
            }
        }

        private void failed(Exception ex) {
            if (!failing) {
                failing = true;
                LOG.warn("access log {}: write failed: {}", name, ex.toString());
            }
        }

        abstract void doWrite(String line) throws IOException;

        abstract void doFlush() throws IOException;

        @Override
        public String toString() {
            return name;
        }
    }

    private static final class StreamSink extends Sink {
        private final Supplier<PrintStream> stream;

        StreamSink(String name, Supplier<PrintStream> stream) {
            super(name);
            this.stream = stream;
        }

        @Override
        void doWrite(String line) {
            stream.get().print(line);
        }

        @Override
        void doFlush() {
            stream.get().flush();
        }
    }

    private static final class FileSink extends Sink {
        private final OutputStream out;
        private byte[] buf = new byte[64 * 1024];
        private int len;

        FileSink(String name, OutputStream out) {
            super(name);
            this.out = out;
        }

        @Override
        void doWrite(String line) throws IOException {
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            if (len + b.length > buf.length) {
                doFlush();
                if (b.length > buf.length) {
                    out.write(b);
                    return;
                }
            }
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
        }

        @Override
        void doFlush() throws IOException {
            if (len > 0) {
                int n = len;
                len = 0;
                out.write(buf, 0, n);
            }
            out.flush();
        }
    }
}
