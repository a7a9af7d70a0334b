package dev.legate.host.accesslog;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.legate.api.AccessLogger;
import dev.legate.api.ConfigException;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Stats;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StderrAccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Builds the {@link AccessLogger} of an Envoy {@code access_log} list (HCM's, tcp_proxy's). Loggers are chosen by
 * the {@code @type} of {@code typed_config}:
 * <ul>
 *   <li>{@code envoy.extensions.access_loggers.stream.v3.StdoutAccessLog} / {@code StderrAccessLog}
 *       ({@code log_format});</li>
 *   <li>{@code envoy.extensions.access_loggers.file.v3.FileAccessLog} ({@code path} required, relative paths
 *       resolved against the config directory, {@code /dev/stdout} and {@code /dev/stderr} work;
 *       {@code log_format}, or the deprecated {@code format}/{@code json_format}).</li>
 * </ul>
 * {@code log_format} is a {@code SubstitutionFormatString}: {@code text_format},
 * {@code text_format_source} ({@code inline_string}, {@code inline_bytes}, {@code filename}) or
 * {@code json_format}, with {@code omit_empty_values}; {@code content_type} is ignored; {@code formatters}
 * extensions are not supported. No format means Envoy's default format ({@link FormatString#DEFAULT_FORMAT}).
 * A {@code filter} is compiled by {@link AccessLogFilters}.
 *
 * <p>The returned logger is immutable and serves every event loop: {@link AccessLogger#log} filters and
 * formats on the caller's loop (no lock, one string per entry) and hands the line to the
 * {@link AccessLogWriter} thread, which writes and flushes in batches. It never blocks; when the writer is
 * {@value AccessLogWriter#MAX_QUEUED} lines behind, lines are dropped and counted.
 */
public final class AccessLogs {

    private static final String STDOUT = "type.googleapis.com/" + StdoutAccessLog.getDescriptor().getFullName();
    private static final String STDERR = "type.googleapis.com/" + StderrAccessLog.getDescriptor().getFullName();
    private static final String FILE = "type.googleapis.com/" + FileAccessLog.getDescriptor().getFullName();

    private AccessLogs() {
    }

    /**
     * The loggers of {@code logs}, or {@link AccessLogger#NONE} when the list is empty. Dropped lines are
     * counted only process-wide ({@link #droppedLines()}).
     *
     * @param path      the config path of the list, for errors ({@code ...typed_config.access_log})
     * @param configDir the directory relative file paths resolve against
     * @throws ConfigException naming {@code path[i]} and the field when an entry cannot be run
     */
    public static AccessLogger create(List<AccessLog> logs, String path, Path configDir) {
        return create(logs, path, configDir, null);
    }

    /**
     * Like {@link #create(List, String, Path)}, and counts dropped lines in {@code stats} as
     * {@code access_log.dropped} (e.g. under the HCM's {@code http.<stat_prefix>.} scope).
     *
     * @param stats may be {@code null}
     */
    public static AccessLogger create(List<AccessLog> logs, String path, Path configDir, Stats stats) {
        requireNonNull(logs, "logs");
        requireNonNull(path, "path");
        if (logs.isEmpty()) {
            return AccessLogger.NONE;
        }
        Counter dropped = stats == null ? null : stats.counter("access_log.dropped");
        List<Entry> entries = new ArrayList<>(logs.size());
        for (int i = 0; i < logs.size(); i++) {
            entries.add(entry(logs.get(i), path + "[" + i + "]", configDir, dropped));
        }
        Entry[] all = entries.toArray(new Entry[0]);
        return new Composite(all);
    }

    /** Lines dropped by every access log of the process because the writer fell behind. */
    public static long droppedLines() {
        return AccessLogWriter.get().droppedLines();
    }

    @SuppressWarnings("deprecation") // FileAccessLog.format/json_format: still accepted, as Envoy does
    private static Entry entry(AccessLog log, String path, Path configDir, Counter dropped) {
        Predicate<LogContext> filter = log.hasFilter()
                ? AccessLogFilters.compile(log.getFilter(), path + ".filter") : null;
        if (!log.hasTypedConfig()) {
            throw ConfigException.at(path + ".typed_config", "missing (expected one of " + STDOUT + ", "
                    + STDERR + ", " + FILE + ")");
        }
        Any any = log.getTypedConfig();
        String typed = path + ".typed_config";
        AccessLogWriter writer = AccessLogWriter.get();
        if (any.getTypeUrl().equals(STDOUT)) {
            StdoutAccessLog cfg = unpack(any, StdoutAccessLog.class, typed);
            Function<LogContext, String> fmt = logFormat(cfg.hasLogFormat() ? cfg.getLogFormat() : null,
                    typed + ".log_format", configDir);
            return new Entry(filter, fmt, writer.stdout(), dropped);
        }
        if (any.getTypeUrl().equals(STDERR)) {
            StderrAccessLog cfg = unpack(any, StderrAccessLog.class, typed);
            Function<LogContext, String> fmt = logFormat(cfg.hasLogFormat() ? cfg.getLogFormat() : null,
                    typed + ".log_format", configDir);
            return new Entry(filter, fmt, writer.stderr(), dropped);
        }
        if (any.getTypeUrl().equals(FILE)) {
            FileAccessLog cfg = unpack(any, FileAccessLog.class, typed);
            if (cfg.getPath().isEmpty()) {
                throw ConfigException.at(typed + ".path", "\"\" (expected: a file path)");
            }
            Function<LogContext, String> fmt = switch (cfg.getAccessLogFormatCase()) {
                case LOG_FORMAT -> logFormat(cfg.getLogFormat(), typed + ".log_format", configDir);
                case FORMAT -> text(cfg.getFormat(), false, typed + ".format");
                case JSON_FORMAT -> json(JsonLogFormat.parse(cfg.getJsonFormat(), false, typed + ".json_format"));
                case TYPED_JSON_FORMAT -> json(JsonLogFormat.parse(cfg.getTypedJsonFormat(), false,
                        typed + ".typed_json_format"));
                default -> logFormat(null, typed + ".log_format", configDir);
            };
            AccessLogWriter.Sink sink;
            try {
                Path p = resolve(cfg.getPath(), configDir);
                sink = writer.file(p);
            } catch (IOException | InvalidPathException e) {
                throw ConfigException.at(typed + ".path", "\"" + cfg.getPath() + "\": cannot open for append: "
                        + e.getMessage());
            }
            return new Entry(filter, fmt, sink, dropped);
        }
        throw ConfigException.at(typed, "unsupported access logger type " + any.getTypeUrl() + " (expected one of "
                + STDOUT + ", " + STDERR + ", " + FILE + ")");
    }

    private static Path resolve(String file, Path configDir) {
        Path p = Path.of(file);
        if (!p.isAbsolute() && configDir != null) {
            p = configDir.resolve(p);
        }
        return p;
    }

    private static <M extends com.google.protobuf.Message> M unpack(Any any, Class<M> type, String path) {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw ConfigException.at(path, "cannot parse " + any.getTypeUrl() + ": " + e.getMessage());
        }
    }

    @SuppressWarnings("deprecation") // text_format: still accepted, as Envoy does
    private static Function<LogContext, String> logFormat(SubstitutionFormatString f, String path, Path configDir) {
        if (f == null) {
            return text(FormatString.DEFAULT_FORMAT, false, path);
        }
        if (f.getFormattersCount() > 0) {
            throw ConfigException.at(path + ".formatters", "not supported yet");
        }
        boolean omit = f.getOmitEmptyValues();
        return switch (f.getFormatCase()) {
            case TEXT_FORMAT -> text(f.getTextFormat(), omit, path + ".text_format");
            case JSON_FORMAT -> json(JsonLogFormat.parse(f.getJsonFormat(), omit, path + ".json_format"));
            case TEXT_FORMAT_SOURCE -> {
                var src = f.getTextFormatSource();
                String sp = path + ".text_format_source";
                String text = switch (src.getSpecifierCase()) {
                    case INLINE_STRING -> src.getInlineString();
                    case INLINE_BYTES -> src.getInlineBytes().toString(StandardCharsets.UTF_8);
                    case FILENAME -> {
                        try {
                            yield Files.readString(resolve(src.getFilename(), configDir));
                        } catch (IOException | InvalidPathException e) {
                            throw ConfigException.at(sp + ".filename", "\"" + src.getFilename()
                                    + "\": cannot read: " + e.getMessage());
                        }
                    }
                    default -> throw ConfigException.at(sp, src.getSpecifierCase() + " not supported yet"
                            + " (expected: inline_string, inline_bytes or filename)");
                };
                yield text(text, omit, sp);
            }
            default -> text(FormatString.DEFAULT_FORMAT, omit, path);
        };
    }

    private static Function<LogContext, String> text(String format, boolean omit, String path) {
        FormatString fs = FormatString.parse(format, omit, path);
        return fs::format;
    }

    private static Function<LogContext, String> json(JsonLogFormat f) {
        return f::format;
    }

    /** One configured logger. */
    private record Entry(Predicate<LogContext> filter, Function<LogContext, String> format,
                         AccessLogWriter.Sink sink, Counter dropped) {
    }

    /** Every logger of one {@code access_log} list. */
    private static final class Composite implements AccessLogger {
        private final Entry[] entries;

        Composite(Entry[] entries) {
            this.entries = entries;
        }

        @Override
        public void log(HeaderMap requestHeaders, HeaderMap responseHeaders, HeaderMap responseTrailers,
                        StreamInfo streamInfo) {
            LogContext ctx = new LogContext(requestHeaders, responseHeaders, responseTrailers, streamInfo,
                    System.nanoTime());
            AccessLogWriter writer = AccessLogWriter.get();
            for (Entry e : entries) {
                try {
                    if (e.filter() != null && !e.filter().test(ctx)) {
                        continue;
                    }
                    writer.enqueue(e.sink(), e.format().apply(ctx), e.dropped());
                } catch (RuntimeException ex) {
                    // traffic never throws: a broken entry is skipped
                }
            }
        }
    }
}
