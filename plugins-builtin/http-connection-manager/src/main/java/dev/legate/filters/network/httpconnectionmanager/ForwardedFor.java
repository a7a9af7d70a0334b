package dev.legate.filters.network.httpconnectionmanager;

import dev.legate.filters.network.httpconnectionmanager.route.IpAddresses;
import java.net.InetAddress;

/**
 * Envoy's {@code Utility::getLastAddressFromXFF}: skip {@code numToSkip} entries from the right of
 * {@code x-forwarded-for}, take the next one, trim it and parse it as an IP literal (never DNS). Stateless.
 */
final class ForwardedFor {

    /**
     * @param address       the address, or {@code null} when absent or unparsable
     * @param singleAddress whether the header held exactly one entry and none was skipped
     */
    record Result(InetAddress address, boolean singleAddress) {
    }

    private static final Result NONE = new Result(null, false);

    private ForwardedFor() {
    }

    static Result lastAddress(String xff, int numToSkip) {
        if (xff == null) {
            return NONE;
        }
        String s = xff;
        for (int i = 0; i < numToSkip; i++) {
            int comma = s.lastIndexOf(',');
            if (comma < 0) {
                return NONE;
            }
            s = s.substring(0, comma);
        }
        int comma = s.lastIndexOf(',');
        if (comma >= 0 && comma + 1 < s.length()) {
            s = s.substring(comma + 1);
        }
        InetAddress address = IpAddresses.parse(s.strip());
        if (address == null) {
            return NONE;
        }
        return new Result(address, comma < 0 && numToSkip == 0);
    }
}
