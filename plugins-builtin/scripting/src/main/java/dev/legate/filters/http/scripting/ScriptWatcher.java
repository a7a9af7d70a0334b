package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches script files and calls back when one changes. One daemon thread per watcher (one watcher per filter
 * config); directory events from the JDK's {@link WatchService} wake it at once, and it also re-checks every
 * file's modification time and size every {@link #POLL_MILLIS} ms, so an editor that replaces the file by a
 * rename, or a file system without events, is seen too. Callbacks run on the watcher's thread.
 *
 * <p>Closed with the listener ({@code FactoryContext.onClose}); after {@link #close()} no callback runs.
 */
public final class ScriptWatcher implements AutoCloseable {

    /** How often every watched file is re-checked without an event, in milliseconds. */
    public static final long POLL_MILLIS = 1000;

    private static final Logger log = LoggerFactory.getLogger(ScriptWatcher.class);

    private record Stamp(FileTime modified, long size) { }

    private final class Entry {
        final Path file;
        final Runnable onChange;
        Stamp stamp;

        Entry(Path file, Runnable onChange) {
            this.file = file;
            this.onChange = onChange;
            this.stamp = stamp(file);
        }
    }

    private final Map<Path, Entry> entries = new ConcurrentHashMap<>();
    private final Map<Path, Boolean> dirs = new ConcurrentHashMap<>();
    private final WatchService service;
    private final Thread thread;
    private volatile boolean closed;

    /** @param name for the thread's name, e.g. the filter's name */
    public ScriptWatcher(String name) {
        WatchService s = null;
        try {
            s = FileSystems.getDefault().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            log.warn("script watcher {}: no file events ({}); polling every {} ms", name, e, POLL_MILLIS);
        }
        service = s;
        thread = Thread.ofPlatform().daemon().name("legate-script-watcher-" + requireNonNull(name, "name"))
                .unstarted(this::run);
        thread.start();
    }

    /**
     * Calls {@code onChange} (on the watcher's thread) whenever {@code file}'s modification time or size changes.
     * A file may be watched once per watcher.
     */
    public void watch(Path file, Runnable onChange) {
        requireNonNull(file, "file");
        requireNonNull(onChange, "onChange");
        Path abs = file.toAbsolutePath().normalize();
        entries.put(abs, new Entry(abs, onChange));
        Path dir = abs.getParent();
        if (service != null && dir != null && dirs.putIfAbsent(dir, Boolean.TRUE) == null) {
            try {
                dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            } catch (IOException | RuntimeException e) {
                log.warn("script watcher: cannot watch {} ({}); polling", dir, e.toString());
            }
        }
    }

    /** Checks every file now (also what the thread does on an event or a poll tick); for tests. */
    public void checkNow() {
        for (Entry e : entries.values()) {
            Stamp now = stamp(e.file);
            if (!Objects.equals(now, e.stamp)) {
                e.stamp = now;
                if (now != null && !closed) {
                    try {
                        e.onChange.run();
                    } catch (RuntimeException ex) {
                        log.error("script watcher: reloading {} failed", e.file, ex);
                    }
                }
            }
        }
    }

    private void run() {
        while (!closed) {
            try {
                if (service != null) {
                    var key = service.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                        // let an editor finish writing before reading
                        Thread.sleep(20);
                    }
                } else {
                    Thread.sleep(POLL_MILLIS);
                }
                checkNow();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                log.error("script watcher failed", e);
            }
        }
    }

    private static Stamp stamp(Path file) {
        try {
            return new Stamp(Files.getLastModifiedTime(file), Files.size(file));
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
