package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.StreamInfo;
import dev.legate.api.http.DirectResponseEntry;
import dev.legate.api.http.HeaderMap;

/**
 * A route answered here: {@code direct_response} or {@code redirect} (Envoy's {@code DirectResponseEntry},
 * with {@code Http::Utility::newUri} for the {@code location}). Immutable; thread-safe.
 */
final class LocalReplyEntry implements DirectResponseEntry {

    /** A compiled {@code RedirectAction}; {@code null} fields are unset. */
    record Redirect(String scheme, String host, String port, String pathRedirect, boolean pathRedirectHasQuery,
                    PathRewriter pathRewriter, CompiledMatch match, boolean stripQuery) {
    }

    private final int responseCode;
    private final String body;
    private final Redirect redirect;
    private final HeaderMutations[] responseMutations;

    LocalReplyEntry(int responseCode, String body, Redirect redirect, HeaderMutations[] responseMutations) {
        this.responseCode = responseCode;
        this.body = body;
        this.redirect = redirect;
        this.responseMutations = responseMutations;
    }

    boolean isRedirect() {
        return redirect != null;
    }

    // DirectResponseEntry

    @Override
    public int responseCode() {
        return responseCode;
    }

    @Override
    public String responseBody() {
        return body;
    }

    /**
     * For a redirect, the new URL: {@code <scheme>://<host>[:<port>]<path>[?query]}. As in Envoy, a
     * {@code direct_response} whose status is 201 or 3xx also gets a {@code location}: the request's own URL.
     * Otherwise {@code null}.
     */
    @Override
    public String newLocation(HeaderMap requestHeaders) {
        if (redirect == null) {
            boolean addLocation = responseCode == 201 || (responseCode >= 300 && responseCode < 400);
            return addLocation && requestHeaders.path() != null ? newUri(requestHeaders, null) : null;
        }
        return newUri(requestHeaders, redirect);
    }

    @Override
    public void finalizeResponseHeaders(HeaderMap headers, StreamInfo streamInfo) {
        HeaderMutations.applyAll(responseMutations, headers, streamInfo, null);
    }

    /** Envoy's {@code Http::Utility::newUri}. */
    static String newUri(HeaderMap headers, Redirect r) {
        String scheme;
        if (r != null && r.scheme() != null) {
            scheme = r.scheme();
        } else {
            scheme = headers.scheme();
            if (scheme == null || scheme.isEmpty()) {
                scheme = "http";
            }
        }
        String port = r != null && r.port() != null ? r.port() : "";
        String host = r != null && r.host() != null ? r.host() : requestHost(headers, scheme, port);

        String path = headers.path();
        if (path == null) {
            path = "/";
        }
        if (r != null && r.pathRewriter() != null) {
            path = r.pathRewriter().rewrite(path, r.match().matchedLength(path));
        }
        if (r != null && r.pathRedirect() != null) {
            if (r.pathRedirectHasQuery()) {
                path = r.pathRedirect();
            } else {
                int q = path.indexOf('?');
                path = q >= 0 ? r.pathRedirect() + path.substring(q) : r.pathRedirect();
            }
        }
        if (!path.startsWith("/")) {
            path = "/" + path;
        }
        if (r != null && !r.pathRedirectHasQuery() && r.stripQuery()) {
            int q = path.indexOf('?');
            if (q >= 0) {
                path = path.substring(0, q);
            }
        }
        return scheme + "://" + host + port + path;
    }

    /** Envoy's {@code processRequestHost}: drops the request's port when it changes or is the old scheme's default. */
    private static String requestHost(HeaderMap headers, String newScheme, String newPort) {
        String host = headers.authority();
        if (host == null || host.isEmpty()) {
            return "";
        }
        int portStart;
        if (host.charAt(0) == '[') {
            int i = host.lastIndexOf("]:");
            portStart = i < 0 ? -1 : i + 1;
        } else {
            portStart = host.lastIndexOf(':');
        }
        if (portStart < 0) {
            return host;
        }
        String requestPort = host.substring(portStart);
        String requestProtocol = headers.get("x-forwarded-proto");
        boolean removePort = !newPort.isEmpty();
        if (!newScheme.equals(requestProtocol)) {
            removePort |= "https".equals(requestProtocol) && requestPort.equals(":443");
            removePort |= "http".equals(requestProtocol) && requestPort.equals(":80");
        }
        return removePort ? host.substring(0, portStart) : host;
    }
}
