package dev.legate.api.http;

/** What a filter returns from {@code decodeHeaders}/{@code encodeHeaders} (Envoy's {@code FilterHeadersStatus}). */
public enum FilterHeadersStatus {
    /** Pass the headers on. */
    CONTINUE,
    /**
     * Hold the headers; data still reaches this filter, which decides what to do with it. Resume with
     * {@code continueDecoding()}/{@code continueEncoding()}.
     */
    STOP_ITERATION,
    /**
     * Hold headers and buffer all data and trailers in the host until the filter resumes, up to the
     * stream's buffer limit (413 on the request path, 500 on the response path when exceeded).
     */
    STOP_ALL_ITERATION_AND_BUFFER,
    /** Like {@link #STOP_ALL_ITERATION_AND_BUFFER}, but past the limit apply back-pressure instead of failing. */
    STOP_ALL_ITERATION_AND_WATERMARK
}
