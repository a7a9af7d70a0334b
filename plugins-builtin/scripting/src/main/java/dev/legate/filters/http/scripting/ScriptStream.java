package dev.legate.filters.http.scripting;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Struct;
import dev.legate.api.Cancellable;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;

/**
 * The stream-side operations behind a script's handle ({@code request_handle}/{@code response_handle}), the same
 * for every engine: headers, body, chunks, trailers, {@code respond}, {@code httpCall}, logs, stream info. One per
 * stream, made by {@link ScriptHttpFilter}; an engine's handle objects call these.
 *
 * <p>Threads: call on the stream's event loop, or on the {@link ScriptCarrier} thread of a script that runs while
 * the event loop is parked in {@link ScriptCarrier#resume()}. Plain stream state (header maps, the buffered body)
 * is read and written directly in both cases; calls into the host ({@link #respond}, {@link #awaitHttpCall},
 * {@link #setBody}) run on the event loop ({@link #onLoop}). Any other thread (a LuaJ coroutine's) is refused
 * with a {@link ScriptUsageException} ({@link #checkThread}) by the methods that read or change stream state
 * and by {@link #onLoop}; a few read-only accessors ({@code streamInfo()}, {@code callbacks()},
 * {@code isEndOfStream()}, {@code routeMetadata()}) do not check, so an engine must check the thread before it
 * hands their results to a script (the Lua engine checks every handle call).
 *
 * <p>Waiting: {@code awaitX} returns {@code false} when the data is already there; otherwise it registers the
 * wait and returns {@code true}, and the engine must then suspend the script and return
 * {@link ScriptInvocation.Outcome#WAITING}; the filter runs it again once the data is there. An engine running
 * a script directly on the event loop (not suspendable) must not call an {@code awaitX} that would return
 * {@code true}: use {@link #mustWaitForBody} and friends first and raise a script error.
 */
public final class ScriptStream {

    /** What a direction's script waits for. */
    enum Wait { NONE, BODY, CHUNK, TRAILERS, HTTP_CALL }

    /** A log level of the handle's {@code logTrace}..{@code logCritical}. */
    public enum LogLevel { TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL }

    /** One direction's state. */
    static final class Half {
        final Direction direction;
        HeaderMap headers;
        HeaderMap trailers;
        /** The direction's input ended (end of stream on headers or data, or trailers). */
        boolean complete;
        /** The headers went on to the next filter: changing them is an error. */
        boolean headersContinued;
        /** This filter returned a STOP status and owes a continue. */
        boolean stopped;
        Wait wait = Wait.NONE;
        /** The chunk of the current data call while the script iterates {@code bodyChunks()}. */
        ByteBuf chunk;
        /** The last chunk the script got ended the stream. */
        boolean chunksEnded;
        ScriptInvocation call;
        boolean done;
        HttpCallResult httpResult;
        Cancellable httpCall;

        Half(Direction direction) {
            this.direction = direction;
        }
    }

    final HttpFilterCallbacks callbacks;
    final ScriptHttpFilter.Settings settings;
    final Half request = new Half(Direction.REQUEST);
    final Half response = new Half(Direction.RESPONSE);
    final ScriptHttpFilter filter;
    /** respond() sent a response: nothing more runs. */
    boolean responded;

    ScriptStream(ScriptHttpFilter filter, HttpFilterCallbacks callbacks, ScriptHttpFilter.Settings settings) {
        this.filter = filter;
        this.callbacks = callbacks;
        this.settings = settings;
    }

    Half half(Direction d) {
        return d == Direction.REQUEST ? request : response;
    }

    /** The host's callbacks (read-only uses; host calls go through {@link #onLoop}). */
    public HttpFilterCallbacks callbacks() {
        return callbacks;
    }

    /** The stream's info (protocol, addresses, route name, filter state). */
    public StreamInfo streamInfo() {
        return callbacks.streamInfo();
    }

    /**
     * Runs {@code call} on the event loop: directly when already there, otherwise through the current
     * {@link ScriptCarrier} (the event loop is parked waiting for the script, so it runs the call and hands back).
     */
    public <T> T onLoop(Supplier<T> call) {
        ScriptCarrier carrier = ScriptCarrier.current();
        if (carrier != null) {
            return carrier.callOnLoop(call);
        }
        checkThread();
        return call.get();
    }

    /**
     * Refuses a call from any thread but the stream's event loop and a script carrier (which runs only while the
     * loop is parked): e.g. a LuaJ coroutine, which runs on a platform thread of its own, must not touch the
     * stream or call into the host.
     *
     * @throws ScriptUsageException naming the problem; the engine turns it into a script error
     */
    public void checkThread() {
        if (!callbacks.dispatcher().inEventLoop() && ScriptCarrier.current() == null) {
            throw new ScriptUsageException("the stream handle cannot be used off the stream's event loop"
                    + " (e.g. from a coroutine)");
        }
    }

    // Headers

    /** The direction's headers. */
    public HeaderMap headers(Direction d) {
        checkThread();
        return half(d).headers;
    }

    /** Whether the direction's headers may still change (they were not passed on yet). */
    public boolean headersMutable(Direction d) {
        checkThread();
        return !half(d).headersContinued && !responded;
    }

    /** @throws ScriptUsageException when the direction's headers were already passed on */
    public void checkHeadersMutable(Direction d) {
        if (!headersMutable(d)) {
            throw new ScriptUsageException("header map can no longer be modified");
        }
    }

    // Body

    /** Whether the direction's input ended (the whole body, if any, is there). */
    public boolean isEndOfStream(Direction d) {
        return half(d).complete;
    }

    /** Whether {@code body()}/{@code trailers()} would wait now. */
    public boolean mustWaitForBody(Direction d) {
        return !half(d).complete;
    }

    /** Registers a wait for the whole body; {@code false} when it is already there. */
    public boolean awaitBody(Direction d) {
        checkThread();
        Half h = half(d);
        if (h.complete) {
            return false;
        }
        h.wait = Wait.BODY;
        return true;
    }

    /**
     * The whole buffered body once {@link #isEndOfStream}, or {@code null} when the direction has none. Borrowed:
     * read it, do not keep or release it; change it only with {@link #setBody}.
     */
    public ByteBuf body(Direction d) {
        checkThread();
        return d == Direction.REQUEST ? callbacks.decodingBuffer() : callbacks.encodingBuffer();
    }

    /**
     * Replaces the direction's body (Envoy's {@code buffer:setBytes}); with headers still held, sets
     * {@code content-length} to the new length. Works on a headers-only message too (it gets a body).
     */
    public void setBody(Direction d, byte[] bytes) {
        requireNonNull(bytes, "bytes");
        onLoop(() -> {
            ByteBuf b = body(d);
            if (b != null) {
                b.skipBytes(b.readableBytes());
            }
            addData(d, bytes);
            HeaderMap h = half(d).headers;
            if (headersMutable(d) && h != null) {
                h.set("content-length", Integer.toString(bytes.length));
            }
            return null;
        });
    }

    private void addData(Direction d, byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        ByteBuf data = Unpooled.wrappedBuffer(bytes);
        if (d == Direction.REQUEST) {
            callbacks.addDecodedData(data);
        } else {
            callbacks.addEncodedData(data);
        }
    }

    // Chunks

    /** Registers a wait for the next body chunk; {@code false} when the body already ended (no more chunks). */
    public boolean awaitChunk(Direction d) {
        checkThread();
        Half h = half(d);
        if (h.chunksEnded || (h.complete && h.chunk == null)) {
            return false;
        }
        h.wait = Wait.CHUNK;
        return true;
    }

    /** The chunk the script was resumed with, or {@code null} when the body ended; borrowed for this resume. */
    public ByteBuf currentChunk(Direction d) {
        checkThread();
        return half(d).chunk;
    }

    /** Replaces the current chunk's bytes as they pass on (Envoy: {@code setBytes} on a chunk edits it in flight). */
    public void setChunk(Direction d, byte[] bytes) {
        Half h = half(d);
        if (h.chunk == null) {
            throw new ScriptUsageException("body chunk is no longer valid");
        }
        onLoop(() -> {
            h.chunk.skipBytes(h.chunk.readableBytes());
            addData(d, bytes);
            return null;
        });
    }

    // Trailers

    /** Registers a wait for the end of the direction (trailers or not); {@code false} when it already ended. */
    public boolean awaitTrailers(Direction d) {
        checkThread();
        Half h = half(d);
        if (h.complete) {
            return false;
        }
        h.wait = Wait.TRAILERS;
        return true;
    }

    /** The direction's trailers, or {@code null}. */
    public HeaderMap trailers(Direction d) {
        checkThread();
        return half(d).trailers;
    }

    // respond

    /**
     * Answers the request with {@code headers} and {@code body} (Envoy's {@code respond()}), details
     * {@link ScriptHttpFilter.Settings#respondDetails()}; then ends the script by throwing {@link ScriptResponded}.
     *
     * @param headers must hold {@code :status} in 200..599
     * @param body    or {@code null}; when given, {@code content-length} is set
     * @throws ScriptUsageException on the response path, after the request headers went on, or for a bad
     *                              {@code :status}
     */
    public void respond(Direction d, List<Map.Entry<String, String>> headers, byte[] body) {
        checkThread();
        if (d == Direction.RESPONSE) {
            throw new ScriptUsageException("respond not currently supported in the response path");
        }
        if (!headersMutable(d)) {
            throw new ScriptUsageException("respond() cannot be called after the request headers were continued");
        }
        int status = 0;
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equals(HeaderMap.STATUS)) {
                try {
                    status = Integer.parseInt(h.getValue().trim());
                } catch (NumberFormatException e) {
                    status = 0;
                }
            }
        }
        if (status < 200 || status > 599) {
            throw new ScriptUsageException(":status must be between 200-599");
        }
        onLoop(() -> {
            HeaderMap h = callbacks.newHeaderMap();
            for (Map.Entry<String, String> e : headers) {
                h.add(e.getKey(), e.getValue());
            }
            boolean hasBody = body != null;
            if (hasBody) {
                h.set("content-length", Integer.toString(body.length));
            }
            responded = true;
            callbacks.streamInfo().setResponseCodeDetails(settings.respondDetails());
            callbacks.encodeHeaders(h, !hasBody);
            if (hasBody) {
                callbacks.encodeData(Unpooled.wrappedBuffer(body), true);
            }
            return null;
        });
        throw ScriptResponded.INSTANCE;
    }

    // httpCall

    /**
     * Starts {@code request} and registers the wait for its response (synchronous {@code httpCall}); after the
     * resume {@link #httpCallResult} has it.
     *
     * @throws ScriptUsageException for an unknown cluster or missing pseudo-headers
     */
    public boolean awaitHttpCall(Direction d, HttpCallRequest request) {
        checkThread();
        Half h = half(d);
        onLoop(() -> {
            h.httpResult = null;
            h.httpCall = ScriptHttpClient.send(callbacks, request, settings.maxHttpCallResponseBytes(), r -> {
                h.httpCall = null;
                h.httpResult = r;
                filter.onHttpCallDone(h);
            });
            return null;
        });
        h.wait = Wait.HTTP_CALL;
        return true;
    }

    /** The response of the last synchronous {@code httpCall} of direction {@code d}. */
    public HttpCallResult httpCallResult(Direction d) {
        return half(d).httpResult;
    }

    /** Fire-and-forget {@code httpCall(..., true)}: the response is dropped; cancelled when the stream ends. */
    public void httpCallAsync(HttpCallRequest request) {
        onLoop(() -> {
            filter.trackAsync(ScriptHttpClient.send(callbacks, request, settings.maxHttpCallResponseBytes(),
                    r -> { }));
            return null;
        });
    }

    // Metadata, logs

    /** The route entry's metadata under {@code filter_metadata[<filter name>]}, or an empty struct. */
    public Struct routeMetadata() {
        Route route = onLoop(callbacks::route);
        if (route == null) {
            return Struct.getDefaultInstance();
        }
        var md = route.config().getMetadata().getFilterMetadataMap();
        Struct s = md.get(settings.filterName());
        if (s == null && settings.canonicalName() != null) {
            s = md.get(settings.canonicalName());
        }
        return s == null ? Struct.getDefaultInstance() : s;
    }

    /** The stream's dynamic metadata, made on first use. */
    public DynamicMetadata dynamicMetadata() {
        checkThread();
        StreamInfo info = callbacks.streamInfo();
        DynamicMetadata m = info.state(DynamicMetadata.KEY);
        if (m == null) {
            m = new DynamicMetadata();
            info.setState(DynamicMetadata.KEY, m);
        }
        return m;
    }

    /** Envoy's {@code script log: <message>} at {@code level} on the filter's logger. */
    public void log(LogLevel level, String message) {
        Logger log = settings.log();
        switch (level) {
            case TRACE -> log.trace("script log: {}", message);
            case DEBUG -> log.debug("script log: {}", message);
            case INFO -> log.info("script log: {}", message);
            case WARN -> log.warn("script log: {}", message);
            case ERROR, CRITICAL -> log.error("script log: {}", message);
        }
    }
}
