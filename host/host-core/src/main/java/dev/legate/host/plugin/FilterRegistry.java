package dev.legate.host.plugin;

import static java.util.Objects.requireNonNull;

import dev.legate.api.ConfigException;
import dev.legate.api.config.ConfigType;
import dev.legate.api.http.HttpFilterFactory;
import dev.legate.api.network.NetworkFilterFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The filter factories of one process, by filter name: network filters ({@code filter_chains[].filters[].name})
 * and HTTP filters ({@code http_filters[].name}) are two name spaces, as in Envoy. Each name is provided by
 * exactly one source (a plugin id, or {@code application} for factories handed to the server directly); a
 * second registration of a name fails start-up naming both sources (Caddy's loud duplicate check).
 *
 * <p>Immutable once built; read from any thread.
 */
public final class FilterRegistry {

    /** The source name of factories given to the server directly rather than found in a plugin. */
    public static final String APPLICATION = "application";

    /**
     * One registered factory.
     *
     * @param name    the filter name
     * @param factory the factory ({@link NetworkFilterFactory} or {@link HttpFilterFactory})
     * @param source  the plugin id that provides it, or {@link #APPLICATION}
     */
    public record Registration<F>(String name, F factory, String source) {
    }

    private final Map<String, Registration<NetworkFilterFactory<?>>> network;
    private final Map<String, Registration<HttpFilterFactory<?>>> http;

    private FilterRegistry(Builder b) {
        this.network = Collections.unmodifiableMap(new LinkedHashMap<>(b.network));
        this.http = Collections.unmodifiableMap(new LinkedHashMap<>(b.http));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The network filter factory named {@code name}, or {@code null}. */
    public NetworkFilterFactory<?> networkFilter(String name) {
        Registration<NetworkFilterFactory<?>> r = network.get(name);
        return r == null ? null : r.factory();
    }

    /** The HTTP filter factory named {@code name}, or {@code null}. */
    public HttpFilterFactory<?> httpFilter(String name) {
        Registration<HttpFilterFactory<?>> r = http.get(name);
        return r == null ? null : r.factory();
    }

    /**
     * The network filter factory whose {@code configType()} has this type URL, when exactly one has it; else
     * {@code null}. Envoy also finds a filter by the type of its {@code typed_config}, which keeps configs with
     * older filter names (e.g. {@code envoy.tcp_proxy}) working.
     */
    public NetworkFilterFactory<?> networkFilterForType(String typeUrl) {
        return unique(network, typeUrl);
    }

    /** Like {@link #networkFilterForType}, for HTTP filters. */
    public HttpFilterFactory<?> httpFilterForType(String typeUrl) {
        return unique(http, typeUrl);
    }

    private static <F> F unique(Map<String, Registration<F>> map, String typeUrl) {
        if (typeUrl == null || typeUrl.isEmpty()) {
            return null;
        }
        F found = null;
        for (Registration<F> r : map.values()) {
            ConfigType<?> t = r.factory() instanceof NetworkFilterFactory<?> n ? n.configType()
                    : ((HttpFilterFactory<?>) r.factory()).configType();
            if (t.typeUrl().equals(typeUrl)) {
                if (found != null) {
                    return null;
                }
                found = r.factory();
            }
        }
        return found;
    }

    /** Network filter names, sorted. */
    public Set<String> networkFilterNames() {
        return new TreeSet<>(network.keySet());
    }

    /** HTTP filter names, sorted. */
    public Set<String> httpFilterNames() {
        return new TreeSet<>(http.keySet());
    }

    /** Every registration, network filters first, in registration order. */
    public List<Registration<?>> registrations() {
        List<Registration<?>> out = new ArrayList<>(network.values());
        out.addAll(http.values());
        return out;
    }

    /** The filter names a source provides, sorted. */
    public List<String> filterNamesOf(String source) {
        Set<String> out = new TreeSet<>();
        for (Registration<?> r : registrations()) {
            if (r.source().equals(source)) {
                out.add(r.name());
            }
        }
        return List.copyOf(out);
    }

    /**
     * Every config type the factories declare: {@code configType()} and, for HTTP filters,
     * {@code perRouteConfigType()}.
     */
    public List<ConfigType<?>> configTypes() {
        List<ConfigType<?>> out = new ArrayList<>();
        network.values().forEach(r -> out.add(r.factory().configType()));
        for (Registration<HttpFilterFactory<?>> r : http.values()) {
            out.add(r.factory().configType());
            if (r.factory().perRouteConfigType() != null) {
                out.add(r.factory().perRouteConfigType());
            }
        }
        return out;
    }

    /**
     * The name of the filter whose {@code configType()} has this type URL, or {@code null}: to say "this is the
     * config of envoy.filters.network.tcp_proxy" when it sits under another filter's name.
     */
    public String filterForTypeUrl(String typeUrl) {
        for (Registration<NetworkFilterFactory<?>> r : network.values()) {
            if (r.factory().configType().typeUrl().equals(typeUrl)) {
                return r.name();
            }
        }
        for (Registration<HttpFilterFactory<?>> r : http.values()) {
            if (r.factory().configType().typeUrl().equals(typeUrl)) {
                return r.name();
            }
        }
        return null;
    }

    /** Collects registrations; {@link #add} fails on a duplicate name. Not thread-safe. */
    public static final class Builder {
        private final Map<String, Registration<NetworkFilterFactory<?>>> network = new LinkedHashMap<>();
        private final Map<String, Registration<HttpFilterFactory<?>>> http = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Registers {@code factory} (a {@link NetworkFilterFactory}, an {@link HttpFilterFactory}, or both).
         *
         * @throws ConfigException when another source already registered the same name
         * @throws IllegalArgumentException when {@code factory} is neither kind
         */
        public Builder add(String source, Object factory) {
            requireNonNull(source, "source");
            requireNonNull(factory, "factory");
            boolean known = false;
            if (factory instanceof NetworkFilterFactory<?> f) {
                known = true;
                put(network, new Registration<>(checkedName(f.name(), f, source), f, source), "network");
            }
            if (factory instanceof HttpFilterFactory<?> f) {
                known = true;
                put(http, new Registration<>(checkedName(f.name(), f, source), f, source), "HTTP");
            }
            if (!known) {
                throw new IllegalArgumentException("factory: " + factory.getClass().getName()
                        + " (expected: a NetworkFilterFactory or an HttpFilterFactory)");
            }
            return this;
        }

        private static String checkedName(String name, Object factory, String source) {
            if (name == null || name.isBlank()) {
                throw new ConfigException("plugin " + source + ": " + factory.getClass().getName()
                        + " has an empty filter name");
            }
            return name;
        }

        private static <F> void put(Map<String, Registration<F>> map, Registration<F> r, String kind) {
            Registration<F> old = map.putIfAbsent(r.name(), r);
            if (old != null) {
                throw new ConfigException("duplicate " + kind + " filter " + r.name() + ": provided by "
                        + describe(old) + " and by " + describe(r));
            }
        }

        private static String describe(Registration<?> r) {
            return (APPLICATION.equals(r.source()) ? "the application" : "plugin " + r.source())
                    + " (" + r.factory().getClass().getName() + ")";
        }

        public FilterRegistry build() {
            return new FilterRegistry(this);
        }
    }
}
