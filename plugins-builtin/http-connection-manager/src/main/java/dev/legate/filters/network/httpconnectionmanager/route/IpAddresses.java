package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * IP literals and CIDR ranges without touching DNS: {@link #parse} accepts only dotted-quad IPv4 and IPv6
 * text (as Envoy's {@code parseInternetAddressNoThrow}), so it never blocks an event loop. Stateless.
 */
public final class IpAddresses {

    private IpAddresses() {
    }

    /** The address written in {@code text} (IPv4 or IPv6, optionally in brackets), or {@code null}. */
    public static InetAddress parse(String text) {
        if (text == null || text.isEmpty() || text.length() > 45 + 2) {
            return null;
        }
        String s = text;
        if (s.charAt(0) == '[' && s.charAt(s.length() - 1) == ']') {
            s = s.substring(1, s.length() - 1);
        }
        if (s.indexOf(':') >= 0) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                boolean ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
                        || c == ':' || c == '.';
                if (!ok) {
                    return null;
                }
            }
        } else if (!isDottedQuad(s)) {
            return null;
        }
        try {
            // A literal: InetAddress parses it without a lookup.
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static boolean isDottedQuad(String s) {
        int parts = 0;
        int value = -1;
        for (int i = 0; i <= s.length(); i++) {
            char c = i < s.length() ? s.charAt(i) : '.';
            if (c == '.') {
                if (value < 0 || value > 255) {
                    return false;
                }
                parts++;
                value = -1;
            } else if (c >= '0' && c <= '9') {
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                if (value > 255) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return parts == 4;
    }

    /** Envoy's text for an address: dotted quad, or compressed IPv6 ({@code ::1}) without brackets. */
    public static String toText(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] b = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }

    /**
     * Envoy's default internal addresses ({@code Network::Utility::isInternalAddress}): RFC 1918
     * ({@code 10/8}, {@code 172.16/12}, {@code 192.168/16}), loopback, and RFC 4193 ({@code fc00::/7}).
     */
    public static boolean isDefaultInternal(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return true;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            int b0 = b[0] & 0xff;
            int b1 = b[1] & 0xff;
            return b0 == 10 || (b0 == 172 && b1 >= 16 && b1 < 32) || (b0 == 192 && b1 == 168);
        }
        return (b[0] & 0xfe) == 0xfc;
    }

    /** Whether the address is a loopback address. */
    public static boolean isLoopback(InetAddress address) {
        return address.isLoopbackAddress();
    }

    /** A compiled {@code core.v3.CidrRange}. Immutable. */
    public record Cidr(byte[] prefix, int prefixLength) {

        /**
         * Compiles {@code address_prefix} / {@code prefix_len}.
         *
         * @throws ConfigException naming {@code path} for a bad address or length
         */
        public static Cidr of(String addressPrefix, int prefixLength, String path) {
            InetAddress a = parse(addressPrefix);
            if (a == null) {
                throw ConfigException.at(path + ".address_prefix", ConfigFields.quote(addressPrefix)
                        + " (expected: an IPv4 or IPv6 address)");
            }
            int max = a instanceof Inet4Address ? 32 : 128;
            if (prefixLength < 0 || prefixLength > max) {
                throw ConfigException.at(path + ".prefix_len", prefixLength + " (expected: <= " + max + ")");
            }
            return new Cidr(a.getAddress(), prefixLength);
        }

        /** Whether {@code address} (of the same family) is inside the range. */
        public boolean contains(InetAddress address) {
            byte[] b = address.getAddress();
            if (b.length != prefix.length) {
                return false;
            }
            int full = prefixLength / 8;
            for (int i = 0; i < full; i++) {
                if (b[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = prefixLength % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (b[full] & mask) == (prefix[full] & mask);
        }
    }
}
