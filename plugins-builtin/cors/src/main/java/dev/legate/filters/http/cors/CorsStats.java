package dev.legate.filters.http.cors;

import static java.util.Objects.requireNonNull;

import dev.legate.api.stats.Counter;
import dev.legate.api.stats.Stats;

/**
 * The CORS filter's stats (Envoy's {@code ALL_CORS_STATS} in
 * {@code source/extensions/filters/http/cors/cors_filter.h}), under {@code http.<stat_prefix>.cors.}. Requests
 * without an {@code Origin} header are counted in neither. Looked up once per {@code http_filters} entry;
 * thread-safe.
 */
final class CorsStats {

    /** {@code http.<stat_prefix>.cors.origin_valid}: requests whose {@code Origin} a policy allows. */
    final Counter originValid;
    /** {@code http.<stat_prefix>.cors.origin_invalid}: requests whose {@code Origin} no policy allows. */
    final Counter originInvalid;

    /**
     * @param httpScope the HCM's {@code http.<stat_prefix>.} scope, as {@code FactoryContext.stats()} gives it to
     *                  the filters of an {@code http_filters} list
     */
    CorsStats(Stats httpScope) {
        Stats cors = requireNonNull(httpScope, "httpScope").scope("cors.");
        originValid = cors.counter("origin_valid");
        originInvalid = cors.counter("origin_invalid");
    }
}
