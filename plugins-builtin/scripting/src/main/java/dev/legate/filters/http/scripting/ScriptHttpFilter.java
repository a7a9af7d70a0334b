package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Cancellable;
import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.FilterTrailersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.filters.http.scripting.ScriptStream.Half;
import dev.legate.filters.http.scripting.ScriptStream.Wait;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

/**
 * A script filter for one stream, engine-neutral: runs the engine's {@link ScriptInvocation} for each direction
 * and turns what the script does into filter statuses, as Envoy's Lua filter does (source/extensions/filters/
 * http/lua/lua_filter.cc, {@code StreamHandleWrapper}).
 *
 * <ul>
 *   <li>Headers: the call starts. If it ends (or iterates {@code bodyChunks()}) the headers go on; if it waits
 *       for the body, trailers or an {@code httpCall}, they are held ({@code STOP_ITERATION}) and data is buffered
 *       in the host ({@code STOP_ITERATION_AND_BUFFER}, so the stream's buffer limit gives 413/500) until the call
 *       ends; then the filter continues.</li>
 *   <li>{@code body()}: resumed once the end of the stream was buffered (on the next event-loop turn after the
 *       last chunk, or at the trailers), with the whole body in the host's buffer.</li>
 *   <li>{@code bodyChunks()}: resumed in each data call with that chunk, which then passes on.</li>
 *   <li>Errors: logged ({@code script log: <error>}), counted in {@link ScriptStats#errors} (and
 *       {@link ScriptStats#limitExceeded}), and the stream goes on as if the filter were absent (Envoy's
 *       fail-open): held headers and data continue.</li>
 *   <li>{@code respond()}: the local response goes out and nothing more of this filter runs for the stream (the
 *       response script does not run on it).</li>
 * </ul>
 *
 * <p>Confined to the stream's event loop (the engine may run script code on a {@link ScriptCarrier} while the loop
 * is parked). {@link #onDestroy()} cancels waiting calls and outstanding HTTP calls.
 */
public final class ScriptHttpFilter implements HttpFilter {

    /**
     * What a script filter config shares with its streams. Immutable.
     *
     * @param filterName               the name in {@code http_filters} (for route metadata)
     * @param canonicalName            the extension's canonical name ({@code envoy.filters.http.lua}) as a
     *                                 metadata fallback, or {@code null}
     * @param stats                    the filter's stats
     * @param log                      where {@code script log:} lines and errors go
     * @param respondDetails           response code details of {@code respond()}, e.g. {@code lua_response}
     * @param maxHttpCallResponseBytes bound of an {@code httpCall} response body
     *                                 ({@link ScriptHttpClient#MAX_RESPONSE_BYTES}); 0 = unbounded (tests only)
     */
    public record Settings(String filterName, String canonicalName, ScriptStats stats, Logger log,
                           String respondDetails, int maxHttpCallResponseBytes) {
        public Settings {
            requireNonNull(filterName, "filterName");
            requireNonNull(stats, "stats");
            requireNonNull(log, "log");
            requireNonNull(respondDetails, "respondDetails");
        }
    }

    private final HttpFilterCallbacks callbacks;
    private final Settings settings;
    private final ScriptInvocation.Factory engine;
    private final ScriptStream stream;
    private List<Cancellable> asyncCalls;
    private boolean destroyed;

    /**
     * @param engine    makes the engine's call per direction
     * @param callbacks the stream's callbacks
     */
    public ScriptHttpFilter(Settings settings, ScriptInvocation.Factory engine, HttpFilterCallbacks callbacks) {
        this.settings = requireNonNull(settings, "settings");
        this.engine = requireNonNull(engine, "engine");
        this.callbacks = requireNonNull(callbacks, "callbacks");
        this.stream = new ScriptStream(this, callbacks, settings);
    }

    /** The stream's operations (for tests). */
    public ScriptStream stream() {
        return stream;
    }

    // StreamDecoderFilter

    @Override
    public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
        return onHeaders(stream.request, headers, endStream);
    }

    @Override
    public FilterDataStatus decodeData(ByteBuf data, boolean endStream) {
        return onData(stream.request, data, endStream);
    }

    @Override
    public FilterTrailersStatus decodeTrailers(HeaderMap trailers) {
        return onTrailers(stream.request, trailers);
    }

    // StreamEncoderFilter

    @Override
    public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
        if (stream.responded) {
            stream.response.done = true;
            return FilterHeadersStatus.CONTINUE;
        }
        return onHeaders(stream.response, headers, endStream);
    }

    @Override
    public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
        return onData(stream.response, data, endStream);
    }

    @Override
    public FilterTrailersStatus encodeTrailers(HeaderMap trailers) {
        return onTrailers(stream.response, trailers);
    }

    // HttpFilter

    @Override
    public void onDestroy() {
        destroyed = true;
        cancel(stream.request);
        cancel(stream.response);
        if (asyncCalls != null) {
            asyncCalls.forEach(Cancellable::cancel);
            asyncCalls = null;
        }
    }

    // The state machine

    private FilterHeadersStatus onHeaders(Half h, HeaderMap headers, boolean endStream) {
        h.headers = headers;
        h.complete = endStream;
        ScriptInvocation call;
        try {
            call = engine.create(h.direction, stream, endStream);
        } catch (RuntimeException e) {
            fail(h, e);
            return FilterHeadersStatus.CONTINUE;
        }
        if (call == null) {
            h.done = true;
            h.headersContinued = true;
            return FilterHeadersStatus.CONTINUE;
        }
        h.call = call;
        settings.stats().executions.inc();
        run(h);
        if (stream.responded && h.direction == Direction.REQUEST) {
            return FilterHeadersStatus.STOP_ITERATION;
        }
        if (h.done || h.wait == Wait.CHUNK) {
            h.headersContinued = true;
            return FilterHeadersStatus.CONTINUE;
        }
        h.stopped = true;
        return FilterHeadersStatus.STOP_ITERATION;
    }

    private FilterDataStatus onData(Half h, ByteBuf data, boolean endStream) {
        if (h.call == null || h.done) {
            return FilterDataStatus.CONTINUE;
        }
        if (endStream) {
            h.complete = true;
        }
        switch (h.wait) {
            case CHUNK -> {
                h.chunk = data;
                h.chunksEnded = endStream;
                try {
                    run(h);
                } finally {
                    h.chunk = null;
                }
                if (stream.responded) {
                    return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
                }
                if (h.done || h.wait == Wait.CHUNK) {
                    return FilterDataStatus.CONTINUE;
                }
                h.stopped = true;
                return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
            }
            case BODY, TRAILERS -> {
                if (endStream) {
                    // The host buffers this chunk when we return: resume on the next turn with the whole body.
                    callbacks.dispatcher().execute(() -> resumeLater(h));
                }
                return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
            }
            default -> {
                return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
            }
        }
    }

    private FilterTrailersStatus onTrailers(Half h, HeaderMap trailers) {
        h.trailers = trailers;
        h.complete = true;
        if (h.call == null || h.done) {
            return FilterTrailersStatus.CONTINUE;
        }
        switch (h.wait) {
            case BODY, TRAILERS, CHUNK -> {
                h.chunk = null;
                h.chunksEnded = true;
                run(h);
                if (stream.responded) {
                    return FilterTrailersStatus.STOP_ITERATION;
                }
                if (h.done || h.wait == Wait.CHUNK) {
                    // Held headers and data continue with the trailers (the host continues a stopped filter).
                    h.stopped = false;
                    h.headersContinued = true;
                    return FilterTrailersStatus.CONTINUE;
                }
                return FilterTrailersStatus.STOP_ITERATION;
            }
            default -> {
                return FilterTrailersStatus.STOP_ITERATION;
            }
        }
    }

    /** A synchronous httpCall of {@code h} completed (on the event loop, outside filter callbacks). */
    void onHttpCallDone(Half h) {
        if (destroyed || h.done || h.wait != Wait.HTTP_CALL) {
            return;
        }
        resumeLater(h);
    }

    /** Resumes {@code h} outside a filter callback, and continues the stream once the call ends. */
    private void resumeLater(Half h) {
        if (destroyed || h.done || stream.responded || h.call == null) {
            return;
        }
        while (true) {
            run(h);
            if (destroyed || stream.responded) {
                return;
            }
            if (h.done || h.wait == Wait.CHUNK) {
                continueHalf(h);
                return;
            }
            // Waits for data that is already here (the body completed during an httpCall): go on at once.
            if ((h.wait == Wait.BODY || h.wait == Wait.TRAILERS) && h.complete) {
                continue;
            }
            return;
        }
    }

    private void continueHalf(Half h) {
        if (!h.stopped) {
            return;
        }
        h.stopped = false;
        h.headersContinued = true;
        if (h.direction == Direction.REQUEST) {
            callbacks.continueDecoding();
        } else {
            callbacks.continueEncoding();
        }
    }

    /** One run of the engine; records the outcome in {@code h}. */
    private void run(Half h) {
        h.wait = Wait.NONE;
        ScriptInvocation.Outcome outcome;
        try {
            outcome = h.call.run();
        } catch (RuntimeException e) {
            fail(h, e);
            return;
        }
        switch (outcome) {
            case FINISHED -> {
                h.done = true;
                h.wait = Wait.NONE;
            }
            case FAILED -> fail(h, h.call.failure());
            case WAITING -> {
                if (h.wait == Wait.NONE) {
                    fail(h, new IllegalStateException("script engine suspended without a wait"));
                }
            }
        }
    }

    private void fail(Half h, Throwable error) {
        h.done = true;
        h.wait = Wait.NONE;
        if (h.call != null) {
            h.call.cancel();
        }
        settings.stats().errors.inc();
        if (error instanceof ScriptLimitExceeded) {
            settings.stats().limitExceeded.inc();
        }
        String message = error == null ? "unknown error" : error.getMessage() != null ? error.getMessage()
                : error.toString();
        settings.log().error("script log: {}", message);
        if (error != null && !(error instanceof ScriptLimitExceeded) && !(error instanceof ScriptUsageException)
                && settings.log().isDebugEnabled()) {
            settings.log().debug("script error detail", error);
        }
    }

    private void cancel(Half h) {
        if (h.call != null && !h.done) {
            h.done = true;
            h.call.cancel();
        }
        if (h.httpCall != null) {
            h.httpCall.cancel();
            h.httpCall = null;
        }
    }

    void trackAsync(Cancellable call) {
        if (destroyed) {
            call.cancel();
            return;
        }
        if (asyncCalls == null) {
            asyncCalls = new ArrayList<>(2);
        }
        asyncCalls.add(call);
    }
}
