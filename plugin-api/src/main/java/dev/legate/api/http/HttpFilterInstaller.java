package dev.legate.api.http;

/**
 * Made once per listener by an {@link HttpFilterFactory}; called once per HTTP stream, on the stream's event
 * loop, to make that stream's filter (Envoy's {@code Http::FilterFactoryCb}). Shared across event loops:
 * it holds only immutable settings.
 */
@FunctionalInterface
public interface HttpFilterInstaller {
    /**
     * @param callbacks valid until the filter's {@link HttpFilter#onDestroy()}
     * @return the stream's filter
     */
    HttpFilter newFilter(HttpFilterCallbacks callbacks);
}
