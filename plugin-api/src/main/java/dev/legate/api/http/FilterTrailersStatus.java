package dev.legate.api.http;

/** What a filter returns from {@code decodeTrailers}/{@code encodeTrailers}. */
public enum FilterTrailersStatus {
    CONTINUE,
    /** Hold the trailers (and the end of the stream) until the filter resumes. */
    STOP_ITERATION
}
