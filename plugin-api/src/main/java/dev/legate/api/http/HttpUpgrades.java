package dev.legate.api.http;

import java.util.Locale;
import java.util.Set;

/**
 * The one place for "is this an upgrade?" and for HTTP/2's connection-specific headers, used by the codecs, the
 * HTTP connection manager and filters (the router). Envoy's {@code Http::Utility::isUpgrade},
 * {@code Http::HeaderUtility::isConnect} and the upgrade type of
 * {@code ConnectionManagerImpl::ActiveStream::decodeHeaders} (source/common/http/utility.cc,
 * header_utility.cc, conn_manager_impl.cc), and RFC 9113 §8.2.2. Works on the codec-neutral header map: an
 * HTTP/2 extended CONNECT reaches filters in the HTTP/1 form ({@code connection: upgrade} plus
 * {@code upgrade: <protocol>}). Stateless and thread-safe; never throws for traffic.
 */
public final class HttpUpgrades {

    /** The {@code upgrade} header. */
    public static final String UPGRADE = "upgrade";
    /** The {@code connection} header. */
    public static final String CONNECTION = "connection";
    /** The upgrade type of a plain CONNECT request (Envoy uses the method; types compare case-insensitively). */
    public static final String CONNECT_TYPE = "connect";

    /**
     * HTTP/1 connection-specific headers that must not appear on HTTP/2 (RFC 9113 §8.2.2), lower-case; {@code te}
     * is also connection-specific unless its value is {@code trailers} (see {@link #isConnectionSpecific}), and a
     * codec carries {@code host} in {@code :authority}, which is why it is not listed here.
     */
    public static final Set<String> CONNECTION_SPECIFIC_HEADERS =
            Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");

    private HttpUpgrades() {
    }

    /**
     * Envoy's {@code Utility::isUpgrade}: a non-empty {@code upgrade} header and a {@code connection} header
     * holding the token {@code upgrade} (any case). {@code h2c} counts here, as in Envoy; see
     * {@link #isH2cUpgrade}.
     */
    public static boolean isUpgrade(HeaderMap headers) {
        String upgrade = headers.get(UPGRADE);
        if (upgrade == null || upgrade.isBlank()) {
            return false;
        }
        for (String v : headers.getAll(CONNECTION)) {
            if (hasToken(v, UPGRADE)) {
                return true;
            }
        }
        return false;
    }

    /**
     * An HTTP/1.1 {@code Upgrade: h2c} request (Envoy's {@code Utility::isH2UpgradeRequest}): never honoured — a
     * downstream codec serves it as a plain request, an upstream one never forwards it.
     */
    public static boolean isH2cUpgrade(HeaderMap headers) {
        return isUpgrade(headers) && "h2c".equalsIgnoreCase(headers.get(UPGRADE).trim());
    }

    /** Envoy's {@code HeaderUtility::isConnect}: {@code :method} is {@code CONNECT}. */
    public static boolean isConnect(HeaderMap headers) {
        return "CONNECT".equals(headers.method());
    }

    /**
     * The upgrade type the HTTP connection manager matches against {@code upgrade_configs}: the {@code upgrade}
     * header's value (trimmed, lower-cased) for an upgrade other than {@code h2c}, {@value #CONNECT_TYPE} for a
     * plain CONNECT (no upgrade headers), else {@code null}.
     */
    public static String upgradeType(HeaderMap headers) {
        if (isUpgrade(headers)) {
            return isH2cUpgrade(headers) ? null : headers.get(UPGRADE).trim().toLowerCase(Locale.ROOT);
        }
        return isConnect(headers) ? CONNECT_TYPE : null;
    }

    /** Whether the comma-separated {@code value} holds {@code token} (case-insensitive, spaces trimmed). */
    public static boolean hasToken(String value, String token) {
        for (String t : value.split(",")) {
            if (t.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the header {@code name} (lower-case) with {@code value} is connection-specific and must not be sent
     * on HTTP/2 (RFC 9113 §8.2.2): {@link #CONNECTION_SPECIFIC_HEADERS}, and {@code te} other than
     * {@code trailers}.
     */
    public static boolean isConnectionSpecific(String name, String value) {
        if ("te".equals(name)) {
            return value == null || !"trailers".equalsIgnoreCase(value.trim());
        }
        return CONNECTION_SPECIFIC_HEADERS.contains(name);
    }
}
