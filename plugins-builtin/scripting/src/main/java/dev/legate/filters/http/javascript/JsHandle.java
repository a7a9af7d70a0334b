package dev.legate.filters.http.javascript;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import dev.legate.api.StreamInfo;
import dev.legate.filters.http.scripting.DynamicMetadata;
import dev.legate.filters.http.scripting.HttpCallRequest;
import dev.legate.filters.http.scripting.HttpCallResult;
import dev.legate.filters.http.scripting.ScriptStream;
import dev.legate.filters.http.scripting.ScriptUsageException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.graalvm.polyglot.HostAccess;
import org.graalvm.polyglot.Value;
import org.graalvm.polyglot.proxy.ProxyArray;
import org.graalvm.polyglot.proxy.ProxyObject;

/**
 * The {@code handle} a JavaScript filter's {@code envoy_on_request(handle)} / {@code envoy_on_response(handle)}
 * gets: Envoy's Lua stream handle (source/extensions/filters/http/lua/wrappers.h, lua_filter.h) with JavaScript
 * call syntax. What waits in Lua returns a Promise here:
 *
 * <pre>{@code
 * async function envoy_on_request(handle) {
 *   handle.headers().add("x-seen", "1");
 *   const body = await handle.body();              // JsBuffer, or null without a body
 *   const res = await handle.httpCall("auth", {":method": "GET", ":path": "/check", ":authority": "auth"}, "", 500);
 *   if (res.headers[":status"] !== "200") handle.respond({":status": "403"}, "denied");
 * }
 * }</pre>
 *
 * <p>Exposed to the script through {@link HostAccess.Export} only (the context allows nothing else of Java).
 * Valid while its call runs; confined to the stream's event loop.
 */
public final class JsHandle {

    private final JsInvocation call;
    private JsHeaders headers;

    JsHandle(JsInvocation call) {
        this.call = call;
    }

    private ScriptStream stream() {
        if (!call.active()) {
            throw new ScriptUsageException("the handle is no longer valid: its script call ended");
        }
        return call.stream;
    }

    /** The direction's headers, changeable until they are passed on. */
    @HostAccess.Export
    public JsHeaders headers() {
        stream();
        if (headers == null) {
            headers = new JsHeaders(call, false);
        }
        return headers;
    }

    /** A Promise of the whole body ({@link JsBuffer}), or of {@code null} when the message has none. */
    @HostAccess.Export
    public Value body() {
        stream();
        return call.body(false);
    }

    /** Like {@link #body()}; with {@code alwaysWrapBody} a message without body gives an empty buffer. */
    @HostAccess.Export
    public Value body(boolean alwaysWrapBody) {
        stream();
        return call.body(alwaysWrapBody);
    }

    /**
     * The body chunk by chunk as it passes, not buffered: {@code for await (const chunk of handle.bodyChunks())}.
     * Each chunk ({@link JsChunk}) is valid until the loop asks for the next; {@code setBytes} edits it in flight.
     */
    @HostAccess.Export
    public Value bodyChunks() {
        stream();
        return call.bodyChunks();
    }

    /** A Promise of the trailers ({@link JsHeaders}), or of {@code null}; resolves once the body ended. */
    @HostAccess.Export
    public Value trailers() {
        stream();
        return call.trailers();
    }

    /**
     * Sends a local response and ends the script (request path only, before the headers went on), Envoy's
     * {@code respond(headers, body)}: {@code headers} is an object ({@code {":status": "403", "x-a": ["1", "2"]}}),
     * {@code :status} in 200..599; details {@code javascript_response}.
     */
    @HostAccess.Export
    public void respond(Value headers, Value body) {
        ScriptStream s = stream();
        List<Map.Entry<String, String>> list = headerList(headers);
        byte[] bytes = body == null || body.isNull() ? null : string(body).getBytes(StandardCharsets.UTF_8);
        call.responded = true;
        try {
            s.respond(call.direction, list, bytes);
        } catch (ScriptUsageException e) {
            call.responded = false;
            throw e;
        }
    }

    /** {@code respond(headers)} without a body. */
    @HostAccess.Export
    public void respond(Value headers) {
        respond(headers, null);
    }

    /**
     * An HTTP request to {@code cluster} (Envoy's {@code httpCall}):
     * {@code httpCall(cluster, headers, body, timeout_ms[, asynchronous])} or
     * {@code httpCall(cluster, headers, body, {timeout_ms, asynchronous})}. {@code headers} must hold
     * {@code :method}, {@code :path} and {@code :authority}. Returns a Promise of {@code {status, headers, body}}
     * ({@code headers} an object, a repeated header's last value; {@code body} a string or {@code null}); a
     * transport failure is {@code 503 upstream failure}. Asynchronous: fire and forget, returns
     * {@code undefined}.
     */
    @HostAccess.Export
    public Value httpCall(Value... args) {
        ScriptStream s = stream();
        if (args.length < 2 || !args[0].isString()) {
            throw new ScriptUsageException("httpCall(cluster, headers, body, timeout_ms | options)");
        }
        String cluster = args[0].asString();
        List<Map.Entry<String, String>> hdrs = headerList(args[1]);
        byte[] body = args.length > 2 && !args[2].isNull() ? string(args[2]).getBytes(StandardCharsets.UTF_8) : null;
        if (body != null && body.length == 0) {
            body = null;
        }
        long timeoutMs = 0;
        boolean async = false;
        if (args.length > 3) {
            Value opt = args[3];
            if (opt.isNumber()) {
                timeoutMs = opt.asLong();
                async = args.length > 4 && args[4].isBoolean() && args[4].asBoolean();
            } else if (opt.hasMembers()) {
                Value t = opt.getMember("timeout_ms");
                timeoutMs = t != null && t.isNumber() ? t.asLong() : 0;
                Value a = opt.getMember("asynchronous");
                async = a != null && a.isBoolean() && a.asBoolean();
            } else if (!opt.isNull()) {
                throw new ScriptUsageException("httpCall: timeout_ms or options expected");
            }
        }
        if (timeoutMs < 0) {
            throw new ScriptUsageException("httpCall: timeout_ms must be >= 0");
        }
        HttpCallRequest request = new HttpCallRequest(cluster, hdrs, body, timeoutMs);
        if (async) {
            s.httpCallAsync(request);
            return null;
        }
        s.awaitHttpCall(call.direction, request);
        return call.httpCallStarted();
    }

    /** The route entry's metadata under this filter's name: {@code metadata().get(key)}. */
    @HostAccess.Export
    public Object metadata() {
        return ProxyObject.fromMap(new LinkedHashMap<>(structToMap(stream().routeMetadata())));
    }

    /** The stream's info: protocol, addresses, route name, dynamic metadata. */
    @HostAccess.Export
    public JsStreamInfo streamInfo() {
        return new JsStreamInfo(stream());
    }

    /** Drops the cached route so that the next filter looks it up again (after changing the headers). */
    @HostAccess.Export
    public void clearRouteCache() {
        stream().callbacks().clearRouteCache();
    }

    /** {@code script log: <message>} at trace level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logTrace(Value message) {
        stream().log(ScriptStream.LogLevel.TRACE, string(message));
    }

    /** {@code script log: <message>} at debug level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logDebug(Value message) {
        stream().log(ScriptStream.LogLevel.DEBUG, string(message));
    }

    /** {@code script log: <message>} at info level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logInfo(Value message) {
        stream().log(ScriptStream.LogLevel.INFO, string(message));
    }

    /** {@code script log: <message>} at warn level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logWarn(Value message) {
        stream().log(ScriptStream.LogLevel.WARN, string(message));
    }

    /** {@code script log: <message>} at error level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logErr(Value message) {
        stream().log(ScriptStream.LogLevel.ERROR, string(message));
    }

    /** {@code script log: <message>} at critical level on logger {@code legate.filters.http.javascript}. */
    @HostAccess.Export
    public void logCritical(Value message) {
        stream().log(ScriptStream.LogLevel.CRITICAL, string(message));
    }

    /** Base64 of the UTF-8 bytes of {@code text}. */
    @HostAccess.Export
    public String base64Escape(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Milliseconds since the epoch, from the event loop's clock. */
    @HostAccess.Export
    public double timestamp() {
        return stream().callbacks().dispatcher().currentTimeMillis();
    }

    /** The stream info object of the handle. */
    public static final class JsStreamInfo {
        private final ScriptStream stream;

        JsStreamInfo(ScriptStream stream) {
            this.stream = stream;
        }

        private StreamInfo info() {
            return stream.streamInfo();
        }

        /** {@code HTTP/1.0}, {@code HTTP/1.1} or {@code HTTP/2}. */
        @HostAccess.Export
        public String protocol() {
            return info().protocol();
        }

        /** The name of the route the stream matched, or empty. */
        @HostAccess.Export
        public String routeName() {
            return info().routeName();
        }

        /** {@code ip:port} of the downstream peer. */
        @HostAccess.Export
        public String downstreamRemoteAddress() {
            return address(info().downstreamRemoteAddress());
        }

        /** {@code ip:port} the downstream connected to. */
        @HostAccess.Export
        public String downstreamLocalAddress() {
            return address(info().downstreamLocalAddress());
        }

        /** The stream's dynamic metadata: {@code get(namespace)} (an object or null), {@code set(ns, key, value)}. */
        @HostAccess.Export
        public JsDynamicMetadata dynamicMetadata() {
            return new JsDynamicMetadata(stream.dynamicMetadata());
        }

        private static String address(InetSocketAddress a) {
            if (a == null) {
                return null;
            }
            String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
        }
    }

    /** {@code streamInfo().dynamicMetadata()}. */
    public static final class JsDynamicMetadata {
        private final DynamicMetadata metadata;

        JsDynamicMetadata(DynamicMetadata metadata) {
            this.metadata = metadata;
        }

        /** The namespace's entries as an object, or {@code null}. */
        @HostAccess.Export
        public Object get(String namespace) {
            Map<String, Object> m = metadata.get(namespace);
            if (m == null) {
                return null;
            }
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, toGuest(v)));
            return ProxyObject.fromMap(out);
        }

        /** Sets {@code key} in {@code namespace}: a string, number, boolean, array or object. */
        @HostAccess.Export
        public void set(String namespace, String key, Value value) {
            metadata.set(namespace, key, toHost(value));
        }
    }

    // Conversions

    /** A header value or log message: strings as they are, other values as JavaScript prints them. */
    static String string(Value v) {
        if (v == null || v.isNull()) {
            return "";
        }
        return v.isString() ? v.asString() : v.toString();
    }

    /** {@code {name: value | [values]}} → header lines in order. */
    static List<Map.Entry<String, String>> headerList(Value headers) {
        if (headers == null || !headers.hasMembers()) {
            throw new ScriptUsageException("headers: expected an object of name: value");
        }
        List<Map.Entry<String, String>> list = new ArrayList<>();
        for (String name : headers.getMemberKeys()) {
            Value v = headers.getMember(name);
            if (v.hasArrayElements()) {
                for (long i = 0; i < v.getArraySize(); i++) {
                    list.add(Map.entry(name, string(v.getArrayElement(i))));
                }
            } else {
                list.add(Map.entry(name, string(v)));
            }
        }
        return list;
    }

    /** An httpCall result as the script sees it: {@code {status, headers, body}}. */
    static Object httpResponse(HttpCallResult r) {
        if (r == null) {
            return null;
        }
        Map<String, Object> hdrs = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : r.headers()) {
            hdrs.put(e.getKey(), e.getValue());
        }
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("status", r.status());
        res.put("headers", ProxyObject.fromMap(hdrs));
        res.put("body", r.body() == null ? null : new String(r.body(), StandardCharsets.UTF_8));
        return ProxyObject.fromMap(res);
    }

    private static Map<String, Object> structToMap(Struct s) {
        Map<String, Object> m = new LinkedHashMap<>();
        s.getFieldsMap().forEach((k, v) -> m.put(k, protoValue(v)));
        return m;
    }

    private static Object protoValue(com.google.protobuf.Value v) {
        return switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> null;
            case NUMBER_VALUE -> v.getNumberValue();
            case STRING_VALUE -> v.getStringValue();
            case BOOL_VALUE -> v.getBoolValue();
            case STRUCT_VALUE -> ProxyObject.fromMap(structToMap(v.getStructValue()));
            case LIST_VALUE -> listValue(v.getListValue());
        };
    }

    private static Object listValue(ListValue l) {
        Object[] out = new Object[l.getValuesCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = protoValue(l.getValues(i));
        }
        return ProxyArray.fromArray(out);
    }

    @SuppressWarnings("unchecked")
    private static Object toGuest(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<String, Object>) m).forEach((k, x) -> out.put(k, toGuest(x)));
            return ProxyObject.fromMap(out);
        }
        if (v instanceof List<?> l) {
            return ProxyArray.fromArray(l.stream().map(JsHandle::toGuest).toArray());
        }
        return v;
    }

    private static Object toHost(Value v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isString()) {
            return v.asString();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.fitsInLong() ? (Object) v.asLong() : (Object) v.asDouble();
        }
        if (v.hasArrayElements()) {
            List<Object> out = new ArrayList<>();
            for (long i = 0; i < v.getArraySize(); i++) {
                out.add(toHost(v.getArrayElement(i)));
            }
            return out;
        }
        if (v.hasMembers()) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (String k : v.getMemberKeys()) {
                out.put(k, toHost(v.getMember(k)));
            }
            return out;
        }
        return v.toString();
    }
}
