package dev.legate.api.network;

/** What a network filter tells the chain after a callback (Envoy's {@code Network::FilterStatus}). */
public enum FilterStatus {
    /** Pass the event (and the data) to the next filter. */
    CONTINUE,
    /**
     * Stop here. Data not consumed stays with this filter's caller only for this call; a filter that
     * stops and wants the bytes retains them. Iteration resumes with
     * {@link NetworkFilterCallbacks#continueReading()}.
     */
    STOP_ITERATION
}
