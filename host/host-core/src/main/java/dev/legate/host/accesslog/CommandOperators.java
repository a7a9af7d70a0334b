package dev.legate.host.accesslog;

import dev.legate.api.ConfigException;
import dev.legate.api.ResponseFlag;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Envoy's access-log command operators ({@code source/common/formatter}), compiled at config time. Each
 * {@link Operator} reads one value of an entry; {@code null} means missing (printed {@code -}).
 *
 * <p>Supported: {@code START_TIME[(strftime)]}, {@code REQ(A?B)}, {@code RESP(A?B)}, {@code TRAILER(A?B)},
 * {@code REQ_WITHOUT_QUERY(A?B)} (and Envoy's newer spellings {@code REQUEST_HEADER}, {@code RESPONSE_HEADER},
 * {@code RESPONSE_TRAILER}),
 * {@code PROTOCOL}, {@code RESPONSE_CODE}, {@code RESPONSE_FLAGS}, {@code RESPONSE_CODE_DETAILS},
 * {@code BYTES_RECEIVED}, {@code BYTES_SENT}, {@code DURATION}, {@code UPSTREAM_HOST}, {@code UPSTREAM_CLUSTER},
 * {@code ROUTE_NAME}, {@code DOWNSTREAM_REMOTE_ADDRESS[_WITHOUT_PORT]},
 * {@code DOWNSTREAM_DIRECT_REMOTE_ADDRESS[_WITHOUT_PORT]}, {@code DOWNSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT]},
 * {@code DOWNSTREAM_LOCAL_PORT}, {@code DOWNSTREAM_REMOTE_PORT}, {@code HOSTNAME}. {@code REQUEST_DURATION},
 * {@code RESPONSE_DURATION}, {@code RESPONSE_TX_DURATION}, {@code REQUEST_TX_DURATION},
 * {@code UPSTREAM_TRANSPORT_FAILURE_REASON} and {@code UPSTREAM_LOCAL_ADDRESS} are accepted but always {@code -}:
 * the host's {@link StreamInfo} does not record those yet.
 */
final class CommandOperators {

    /** Reads one value of an entry; {@code null} when missing. Runs on the event loop that logs. */
    @FunctionalInterface
    interface Operator {
        String value(LogContext ctx);
    }

    private static final Operator MISSING = ctx -> null;

    private static volatile String hostname;

    private CommandOperators() {
    }

    /**
     * The operator {@code name} with argument {@code arg} ({@code null} when absent).
     *
     * @param command the operator as written, for errors ({@code %REQ(:PATH)%})
     * @throws ConfigException naming {@code path} and {@code command} when unknown or malformed
     */
    static Operator create(String name, String arg, String command, String path) {
        switch (name) {
            case "REQ", "REQUEST_HEADER":
                return header(requireArg(arg, command, path), LogContext::requestHeaders);
            case "RESP", "RESPONSE_HEADER":
                return header(requireArg(arg, command, path), LogContext::responseHeaders);
            case "TRAILER", "RESPONSE_TRAILER":
                return header(requireArg(arg, command, path), LogContext::responseTrailers);
            case "REQ_WITHOUT_QUERY": {
                Operator h = header(requireArg(arg, command, path), LogContext::requestHeaders);
                return ctx -> {
                    String v = h.value(ctx);
                    int q = v == null ? -1 : v.indexOf('?');
                    return q < 0 ? v : v.substring(0, q);
                };
            }
            case "START_TIME":
                StartTimeFormat f = arg == null ? StartTimeFormat.ISO : StartTimeFormat.parse(arg, command, path);
                return ctx -> f.format(ctx.info().startTimeMillis());
            default:
                break;
        }
        if (arg != null) {
            throw ConfigException.at(path, "command operator " + command + " takes no argument");
        }
        return switch (name) {
            case "PROTOCOL" -> info(StreamInfo::protocol);
            // 0 when no response was sent, L4 connections included (Envoy's TCP lines read `"- - -" 0 - ...`)
            case "RESPONSE_CODE" -> ctx -> Integer.toString(ctx.info().responseCode());
            case "RESPONSE_FLAGS" -> ctx -> flags(ctx.info().responseFlags());
            case "RESPONSE_CODE_DETAILS" -> info(StreamInfo::responseCodeDetails);
            case "BYTES_RECEIVED" -> ctx -> Long.toString(ctx.info().bytesReceived());
            case "BYTES_SENT" -> ctx -> Long.toString(ctx.info().bytesSent());
            case "DURATION" -> ctx -> Long.toString(Math.max(0, (ctx.nowNanos() - ctx.info().startTimeNanos()) / 1_000_000));
            case "REQUEST_DURATION", "RESPONSE_DURATION", "RESPONSE_TX_DURATION", "REQUEST_TX_DURATION",
                 "UPSTREAM_TRANSPORT_FAILURE_REASON", "UPSTREAM_LOCAL_ADDRESS" -> MISSING;
            case "UPSTREAM_HOST" -> info(StreamInfo::upstreamHost);
            case "UPSTREAM_CLUSTER" -> info(StreamInfo::upstreamCluster);
            case "ROUTE_NAME" -> info(StreamInfo::routeName);
            case "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" ->
                    ctx -> address(ctx.info().downstreamRemoteAddress(), true);
            case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" ->
                    ctx -> address(ctx.info().downstreamRemoteAddress(), false);
            case "DOWNSTREAM_LOCAL_ADDRESS" -> ctx -> address(ctx.info().downstreamLocalAddress(), true);
            case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> ctx -> address(ctx.info().downstreamLocalAddress(), false);
            case "DOWNSTREAM_LOCAL_PORT" -> ctx -> port(ctx.info().downstreamLocalAddress());
            case "DOWNSTREAM_REMOTE_PORT" -> ctx -> port(ctx.info().downstreamRemoteAddress());
            case "HOSTNAME" -> {
                String h = hostname();
                yield ctx -> h;
            }
            default -> throw ConfigException.at(path, "unknown command operator " + command
                    + " (expected one of START_TIME, REQ, REQ_WITHOUT_QUERY, RESP, TRAILER, PROTOCOL, RESPONSE_CODE, RESPONSE_FLAGS,"
                    + " RESPONSE_CODE_DETAILS, BYTES_RECEIVED, BYTES_SENT, DURATION, REQUEST_DURATION,"
                    + " RESPONSE_DURATION, UPSTREAM_HOST, UPSTREAM_CLUSTER, ROUTE_NAME,"
                    + " DOWNSTREAM_REMOTE_ADDRESS, DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT,"
                    + " DOWNSTREAM_LOCAL_ADDRESS, HOSTNAME)");
        };
    }

    private static String requireArg(String arg, String command, String path) {
        if (arg == null || arg.isEmpty()) {
            throw ConfigException.at(path, "command operator " + command + " needs a header name, e.g. %REQ(:PATH)%");
        }
        return arg;
    }

    /** {@code A?B}: header A, else header B. Names are matched case-insensitively. */
    private static Operator header(String arg, Function<LogContext, HeaderMap> which) {
        int q = arg.indexOf('?');
        String main = (q < 0 ? arg : arg.substring(0, q)).toLowerCase(Locale.ROOT);
        String alt = q < 0 ? null : arg.substring(q + 1).toLowerCase(Locale.ROOT);
        if (alt == null) {
            return ctx -> {
                HeaderMap h = which.apply(ctx);
                return h == null ? null : h.get(main);
            };
        }
        return ctx -> {
            HeaderMap h = which.apply(ctx);
            if (h == null) {
                return null;
            }
            String v = h.get(main);
            return v != null ? v : h.get(alt);
        };
    }

    private static Operator info(Function<StreamInfo, String> f) {
        return ctx -> f.apply(ctx.info());
    }

    /** Envoy's short flag codes joined by commas in declaration order; missing when none. */
    static String flags(Set<ResponseFlag> flags) {
        if (flags.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (ResponseFlag f : ResponseFlag.values()) {
            if (flags.contains(f)) {
                if (!sb.isEmpty()) {
                    sb.append(',');
                }
                sb.append(f.code());
            }
        }
        return sb.toString();
    }

    /** {@code ip:port} ({@code [ip6]:port}), or the IP alone. */
    static String address(InetSocketAddress a, boolean withPort) {
        if (a == null) {
            return null;
        }
        String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        if (!withPort) {
            return ip;
        }
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    private static String port(InetSocketAddress a) {
        return a == null ? null : Integer.toString(a.getPort());
    }

    /** The machine's host name, looked up once (at config time). */
    private static String hostname() {
        String h = hostname;
        if (h == null) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                String env = System.getenv("HOSTNAME");
                h = env == null ? "-" : env;
            }
            hostname = h;
        }
        return h;
    }
}
