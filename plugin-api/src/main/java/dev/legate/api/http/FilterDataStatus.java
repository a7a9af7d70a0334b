package dev.legate.api.http;

/** What a filter returns from {@code decodeData}/{@code encodeData} (Envoy's {@code FilterDataStatus}). */
public enum FilterDataStatus {
    /** Pass the data on (and, if headers were held, the headers first). */
    CONTINUE,
    /** Buffer this data in the host (to the stream's limit: 413/500 beyond it) and stop. */
    STOP_ITERATION_AND_BUFFER,
    /** Buffer this data and apply back-pressure past the limit instead of failing. */
    STOP_ITERATION_AND_WATERMARK,
    /** Stop without buffering: the filter took what it wanted (retained) or dropped the data. */
    STOP_ITERATION_NO_BUFFER
}
