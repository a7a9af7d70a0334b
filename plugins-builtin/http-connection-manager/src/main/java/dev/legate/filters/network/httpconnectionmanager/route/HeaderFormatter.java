package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import java.net.InetAddress;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The value of a {@code request_headers_to_add}/{@code response_headers_to_add} entry, with Envoy's
 * {@code %VAR%} substitutions compiled at load time ({@code source/common/router/header_formatter.cc}).
 * {@code %%} is a literal {@code %}. Supported: {@code %DOWNSTREAM_REMOTE_ADDRESS%},
 * {@code %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%}, {@code %DOWNSTREAM_REMOTE_PORT%},
 * {@code %DOWNSTREAM_DIRECT_REMOTE_ADDRESS%}, {@code %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%},
 * {@code %DOWNSTREAM_LOCAL_ADDRESS%}, {@code %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%},
 * {@code %DOWNSTREAM_LOCAL_PORT%}, {@code %PROTOCOL%}, {@code %UPSTREAM_HOST%}, {@code %UPSTREAM_CLUSTER%},
 * {@code %ROUTE_NAME%}, {@code %RESPONSE_CODE_DETAILS%}, {@code %HOSTNAME%} and, in request headers only,
 * {@code %REQ(name)%}. A value that is not available formats as empty. Immutable; thread-safe.
 */
final class HeaderFormatter {

    private interface Part {
        void append(StringBuilder out, StreamInfo info, HeaderMap requestHeaders);
    }

    private final String constant;
    private final Part[] parts;

    private HeaderFormatter(String constant, Part[] parts) {
        this.constant = constant;
        this.parts = parts;
    }

    /**
     * Compiles {@code value}.
     *
     * @param request whether the value goes into request headers ({@code %REQ(...)%} allowed)
     * @throws ConfigException naming {@code path} for an unknown variable or an unterminated {@code %}
     */
    static HeaderFormatter compile(String value, String path, boolean request) {
        if (value.indexOf('%') < 0) {
            return new HeaderFormatter(value, null);
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c != '%') {
                literal.append(c);
                i++;
                continue;
            }
            if (i + 1 < value.length() && value.charAt(i + 1) == '%') {
                literal.append('%');
                i += 2;
                continue;
            }
            int end = value.indexOf('%', i + 1);
            if (end < 0) {
                throw ConfigException.at(path, ConfigFields.quote(value)
                        + " (expected: every % to start a %VARIABLE% or be written %%)");
            }
            String name = value.substring(i + 1, end);
            if (literal.length() > 0) {
                String text = literal.toString();
                parts.add((out, info, req) -> out.append(text));
                literal.setLength(0);
            }
            parts.add(variable(name, path, request));
            i = end + 1;
        }
        if (parts.isEmpty()) {
            return new HeaderFormatter(literal.toString(), null);
        }
        if (literal.length() > 0) {
            String text = literal.toString();
            parts.add((out, info, req) -> out.append(text));
        }
        return new HeaderFormatter(null, parts.toArray(new Part[0]));
    }

    private static Part variable(String name, String path, boolean request) {
        switch (name) {
            case "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS":
                return (out, info, req) -> appendAddress(out, info.downstreamRemoteAddress(), true);
            case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT":
                return (out, info, req) -> appendAddress(out, info.downstreamRemoteAddress(), false);
            case "DOWNSTREAM_REMOTE_PORT":
                return (out, info, req) -> appendPort(out, info.downstreamRemoteAddress());
            case "DOWNSTREAM_LOCAL_ADDRESS":
                return (out, info, req) -> appendAddress(out, info.downstreamLocalAddress(), true);
            case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT":
                return (out, info, req) -> appendAddress(out, info.downstreamLocalAddress(), false);
            case "DOWNSTREAM_LOCAL_PORT":
                return (out, info, req) -> appendPort(out, info.downstreamLocalAddress());
            case "PROTOCOL":
                return (out, info, req) -> appendNullable(out, info.protocol());
            case "UPSTREAM_HOST", "UPSTREAM_REMOTE_ADDRESS":
                return (out, info, req) -> appendNullable(out, info.upstreamHost());
            case "UPSTREAM_CLUSTER":
                return (out, info, req) -> appendNullable(out, info.upstreamCluster());
            case "ROUTE_NAME":
                return (out, info, req) -> appendNullable(out, info.routeName());
            case "RESPONSE_CODE_DETAILS":
                return (out, info, req) -> appendNullable(out, info.responseCodeDetails());
            case "HOSTNAME":
                String unused = Hostname.VALUE; // resolve at load, not on an event loop
                return (out, info, req) -> out.append(Hostname.VALUE);
            default:
                break;
        }
        if (name.startsWith("REQ(") && name.endsWith(")") && name.length() > 5) {
            if (!request) {
                throw ConfigException.at(path, "%" + name + "% (expected: %REQ(...)% only in request headers)");
            }
            String header = name.substring(4, name.length() - 1).toLowerCase(Locale.ROOT);
            return (out, info, req) -> {
                if (req != null) {
                    appendNullable(out, req.get(header));
                }
            };
        }
        throw ConfigException.at(path, "%" + name + "% (expected: a supported variable: DOWNSTREAM_REMOTE_ADDRESS, "
                + "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT, DOWNSTREAM_LOCAL_ADDRESS, DOWNSTREAM_LOCAL_PORT, PROTOCOL, "
                + "UPSTREAM_HOST, UPSTREAM_CLUSTER, ROUTE_NAME, RESPONSE_CODE_DETAILS, HOSTNAME, REQ(name))");
    }

    /** Whether the value has no variables. */
    boolean isConstant() {
        return constant != null;
    }

    /** The value for one stream; {@code requestHeaders} may be {@code null}. */
    String format(StreamInfo info, HeaderMap requestHeaders) {
        if (constant != null) {
            return constant;
        }
        StringBuilder out = new StringBuilder(32);
        for (Part part : parts) {
            part.append(out, info, requestHeaders);
        }
        return out.toString();
    }

    private static void appendNullable(StringBuilder out, String value) {
        if (value != null) {
            out.append(value);
        }
    }

    private static void appendPort(StringBuilder out, InetSocketAddress address) {
        if (address != null) {
            out.append(address.getPort());
        }
    }

    /** Envoy's form: {@code 10.0.0.1:80}, {@code [::1]:80}, or the bare IP. */
    static void appendAddress(StringBuilder out, InetSocketAddress address, boolean withPort) {
        if (address == null) {
            return;
        }
        InetAddress ip = address.getAddress();
        String text = ip == null ? address.getHostString() : IpAddresses.toText(ip);
        boolean v6 = ip instanceof Inet6Address;
        if (withPort && v6) {
            out.append('[').append(text).append("]:").append(address.getPort());
        } else if (withPort) {
            out.append(text).append(':').append(address.getPort());
        } else {
            out.append(text);
        }
    }

    /** Looked up on first use only (the lookup may touch the resolver), on the main thread at load. */
    private static final class Hostname {
        static final String VALUE = lookup();

        private static String lookup() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                return "";
            }
        }
    }
}
