package dev.legate.filters.network.httpconnectionmanager;

/**
 * {@code :path} and {@code :authority} normalization for {@code merge_slashes}, {@code normalize_path}
 * (RFC 3986 §5.2.4 dot-segment removal; Envoy's full Chromium canonicalization also decodes unreserved
 * percent-escapes and turns {@code \} into {@code /}, which Legate does not do yet) and the host-port
 * options. The query is left untouched. Stateless.
 */
final class Paths {

    private Paths() {
    }

    static String normalize(String path, boolean dotSegments, boolean mergeSlashes) {
        int q = queryStart(path);
        String p = path.substring(0, q);
        if (dotSegments) {
            p = removeDotSegments(p);
        }
        if (mergeSlashes) {
            p = mergeSlashes(p);
        }
        return q == path.length() ? p : p + path.substring(q);
    }

    private static int queryStart(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return path.length();
    }

    static String mergeSlashes(String p) {
        if (!p.contains("//")) {
            return p;
        }
        StringBuilder out = new StringBuilder(p.length());
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '/' && out.length() > 0 && out.charAt(out.length() - 1) == '/') {
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    /** RFC 3986 §5.2.4 on an absolute path. */
    static String removeDotSegments(String p) {
        if (!p.contains("/.")) {
            return p;
        }
        String[] segments = p.split("/", -1);
        java.util.ArrayDeque<String> out = new java.util.ArrayDeque<>();
        boolean trailingSlash = false;
        for (int i = 1; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.equals(".")) {
                trailingSlash = last;
            } else if (s.equals("..")) {
                out.pollLast();
                trailingSlash = last;
            } else {
                out.addLast(s);
                trailingSlash = false;
            }
        }
        StringBuilder b = new StringBuilder(p.length());
        for (String s : out) {
            b.append('/').append(s);
        }
        if (trailingSlash || b.length() == 0) {
            b.append('/');
        }
        return b.toString();
    }

    /** The index of the {@code :} before a host's port, or -1 (IPv6 brackets understood). */
    static int portStart(String host) {
        int colon = host.lastIndexOf(':');
        if (colon < 0) {
            return -1;
        }
        if (host.charAt(0) == '[') {
            int close = host.lastIndexOf(']');
            return close >= 0 && colon == close + 1 ? colon : -1;
        }
        return host.indexOf(':') == colon ? colon : -1;
    }
}
