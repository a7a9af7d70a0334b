package dev.legate.filters.network.httpconnectionmanager.route;

import dev.legate.api.ConfigException;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One level's {@code *_headers_to_remove} and {@code *_headers_to_add} (Envoy's {@code HeaderParser}):
 * removals first, then additions in list order, each with its {@code append_action}
 * ({@code APPEND_IF_EXISTS_OR_ADD} by default; the deprecated {@code append: false} means
 * {@code OVERWRITE_IF_EXISTS_OR_ADD}). A value that formats empty is dropped unless {@code keep_empty_value}.
 * Immutable; applied on the stream's event loop.
 */
final class HeaderMutations {

    static final HeaderMutations NONE = new HeaderMutations(new String[0], new Addition[0]);

    private record Addition(String name, HeaderFormatter value, HeaderAppendAction action, boolean keepEmpty) {
    }

    private static final Set<String> HANDLED = Set.of("header", "append", "append_action", "keep_empty_value");

    private final String[] removals;
    private final Addition[] additions;

    private HeaderMutations(String[] removals, Addition[] additions) {
        this.removals = removals;
        this.additions = additions;
    }

    /**
     * Compiles one level.
     *
     * @param prefix  the path of the owning object plus {@code request_} or {@code response_}, e.g.
     *                {@code route_config.virtual_hosts[0].request_}
     * @param request whether these are request headers ({@code %REQ()%} allowed)
     */
    @SuppressWarnings("deprecation") // the deprecated append flag is still Envoy config
    static HeaderMutations compile(List<HeaderValueOption> toAdd, List<String> toRemove, String prefix,
                                   boolean request) {
        if (toAdd.isEmpty() && toRemove.isEmpty()) {
            return NONE;
        }
        String removePath = prefix + "headers_to_remove";
        String addPath = prefix + "headers_to_add";
        String[] removals = new String[toRemove.size()];
        for (int i = 0; i < removals.length; i++) {
            String name = toRemove.get(i).toLowerCase(Locale.ROOT);
            String path = removePath + "[" + i + "]";
            if (name.isEmpty()) {
                throw ConfigException.at(path, "\"\" (expected: a header name)");
            }
            if (name.startsWith(":") || name.equals("host")) {
                throw ConfigException.at(path, ConfigFields.quote(toRemove.get(i))
                        + " (expected: not a pseudo-header or host: :-prefixed or host headers may not be removed)");
            }
            removals[i] = name;
        }
        Addition[] additions = new Addition[toAdd.size()];
        for (int i = 0; i < additions.length; i++) {
            HeaderValueOption o = toAdd.get(i);
            String path = addPath + "[" + i + "]";
            ConfigFields.check(o, path, HANDLED, Set.of());
            String key = o.getHeader().getKey();
            String name = key.toLowerCase(Locale.ROOT);
            if (name.isEmpty()) {
                throw ConfigException.at(path + ".header.key", "\"\" (expected: a header name)");
            }
            if (name.startsWith(":") || name.equals("host")) {
                throw ConfigException.at(path + ".header.key", ConfigFields.quote(key)
                        + " (expected: not a pseudo-header or host: :-prefixed or host headers may not be modified)");
            }
            String raw = o.getHeader().getValue();
            if (raw.isEmpty() && !o.getHeader().getRawValue().isEmpty()) {
                raw = o.getHeader().getRawValue().toString(StandardCharsets.UTF_8);
            }
            HeaderAppendAction action = o.getAppendAction();
            if (o.hasAppend()) {
                if (action != HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD) {
                    throw ConfigException.at(path, "both append and append_action are set (expected: only append_action)");
                }
                action = o.getAppend().getValue()
                        ? HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD : HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
            }
            if (action == HeaderAppendAction.UNRECOGNIZED) {
                throw ConfigException.at(path + ".append_action", "unknown value");
            }
            additions[i] = new Addition(name, HeaderFormatter.compile(raw, path + ".header.value", request), action,
                    o.getKeepEmptyValue());
        }
        return new HeaderMutations(removals, additions);
    }

    boolean isEmpty() {
        return removals.length == 0 && additions.length == 0;
    }

    /**
     * Applies this level to {@code headers}.
     *
     * @param requestHeaders for {@code %REQ()%}; may be {@code null}
     */
    void apply(HeaderMap headers, StreamInfo info, HeaderMap requestHeaders) {
        for (String name : removals) {
            headers.remove(name);
        }
        for (Addition a : additions) {
            String value = a.value().format(info, requestHeaders);
            if (value.isEmpty() && !a.keepEmpty()) {
                continue;
            }
            switch (a.action()) {
                case APPEND_IF_EXISTS_OR_ADD -> headers.add(a.name(), value);
                case ADD_IF_ABSENT -> {
                    if (!headers.contains(a.name())) {
                        headers.add(a.name(), value);
                    }
                }
                case OVERWRITE_IF_EXISTS_OR_ADD -> headers.set(a.name(), value);
                case OVERWRITE_IF_EXISTS -> {
                    if (headers.contains(a.name())) {
                        headers.set(a.name(), value);
                    }
                }
                default -> headers.add(a.name(), value);
            }
        }
    }

    /** Applies {@code levels} in order (later levels win on overwrite). */
    static void applyAll(HeaderMutations[] levels, HeaderMap headers, StreamInfo info, HeaderMap requestHeaders) {
        for (HeaderMutations m : levels) {
            m.apply(headers, info, requestHeaders);
        }
    }

    /** The non-empty levels, as an array. */
    static HeaderMutations[] chain(HeaderMutations... levels) {
        List<HeaderMutations> out = new ArrayList<>(levels.length);
        for (HeaderMutations m : levels) {
            if (!m.isEmpty()) {
                out.add(m);
            }
        }
        return out.toArray(new HeaderMutations[0]);
    }
}
