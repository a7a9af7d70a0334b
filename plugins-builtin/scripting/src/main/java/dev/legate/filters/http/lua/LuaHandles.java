package dev.legate.filters.http.lua;

import com.google.protobuf.Struct;
import dev.legate.api.StreamInfo;
import dev.legate.api.http.HeaderMap;
import dev.legate.filters.http.scripting.Direction;
import dev.legate.filters.http.scripting.DynamicMetadata;
import dev.legate.filters.http.scripting.HttpCallRequest;
import dev.legate.filters.http.scripting.HttpCallResult;
import dev.legate.filters.http.scripting.ScriptStream;
import dev.legate.filters.http.scripting.ScriptStream.LogLevel;
import dev.legate.filters.http.scripting.ScriptUsageException;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaUserdata;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.Varargs;
import org.luaj.vm2.lib.VarArgFunction;

/**
 * Envoy's Lua handle API (source/extensions/filters/http/lua/wrappers.cc, lua_filter.cc) over
 * {@link ScriptStream}: the stream handle ({@code request_handle}/{@code response_handle}), header maps, body
 * buffers and chunks, stream info, dynamic metadata, route metadata and the connection. Each object is a Lua
 * userdata whose metatable's {@code __index} holds its methods; the metatables are made once per
 * {@link LuaState}.
 *
 * <p>Wrong use is a Lua error at the calling line (so {@code pcall} catches it, as in Envoy): a handle used after
 * its call ended ({@code object used outside of proper scope}), a header change after the headers went on,
 * {@code respond()} on the response path, an unknown {@code httpCall} cluster.
 */
final class LuaHandles {

    private final LuaTable streamMeta;
    private final LuaTable headersMeta;
    private final LuaTable bufferMeta;
    private final LuaTable streamInfoMeta;
    private final LuaTable dynamicMetadataMeta;
    private final LuaTable metadataMeta;
    private final LuaTable connectionMeta;
    private final LuaTable filterStateMeta;
    private final LuaTable connectionInfoMeta;

    LuaHandles() {
        streamMeta = meta(streamMethods());
        headersMeta = meta(headerMethods());
        headersMeta.set("__pairs", method(Headers.class, (h, a) -> pairs(h.snapshot())));
        bufferMeta = meta(bufferMethods());
        streamInfoMeta = meta(streamInfoMethods());
        dynamicMetadataMeta = meta(dynamicMetadataMethods());
        dynamicMetadataMeta.set("__pairs", method(DynMeta.class, (d, a) -> {
            List<Map.Entry<LuaValue, LuaValue>> entries = new ArrayList<>();
            d.handle.check();
            d.handle.stream.dynamicMetadata().namespaces()
                    .forEach((ns, m) -> entries.add(Map.entry(LuaValue.valueOf(ns), LuaValues.ofJava(m))));
            return pairs(entries);
        }));
        metadataMeta = meta(metadataMethods());
        metadataMeta.set("__pairs", method(Metadata.class, (m, a) -> {
            List<Map.Entry<LuaValue, LuaValue>> entries = new ArrayList<>();
            m.struct.getFieldsMap().forEach((k, v) -> entries.add(Map.entry(LuaValue.valueOf(k), LuaValues.of(v))));
            return pairs(entries);
        }));
        connectionMeta = meta(connectionMethods());
        filterStateMeta = meta(filterStateMethods());
        LuaTable cx = new LuaTable();
        cx.set("dynamicMetadata", method(ConnectionInfo.class, (c, a) -> {
            c.handle.check();
            return new LuaUserdata(new Metadata(Struct.getDefaultInstance()), metadataMeta);
        }));
        connectionInfoMeta = meta(cx);
    }

    /** The stream handle given to {@code envoy_on_request}/{@code envoy_on_response}. */
    LuaValue streamHandle(Handle handle) {
        return new LuaUserdata(handle, streamMeta);
    }

    // Java objects behind the userdata

    /** One call's handle: valid while the call runs (or waits). */
    static final class Handle implements OfHandle {
        final LuaCall call;
        final ScriptStream stream;
        final Direction direction;
        final boolean clearRouteCache;
        boolean valid = true;
        LuaValue headers;

        Handle(LuaCall call, ScriptStream stream, Direction direction, boolean clearRouteCache) {
            this.call = call;
            this.stream = stream;
            this.direction = direction;
            this.clearRouteCache = clearRouteCache;
        }

        void check() {
            if (!valid) {
                throw new LuaError("object used outside of proper scope");
            }
            call.checkThread();
        }

        @Override
        public Handle handle() {
            return this;
        }
    }

    /** A userdata bound to one call's handle: its methods may run only on that call's thread. */
    interface OfHandle {
        Handle handle();
    }

    record Headers(Handle handle, HeaderMap map, boolean trailers) implements OfHandle {
        List<Map.Entry<LuaValue, LuaValue>> snapshot() {
            handle.check();
            List<Map.Entry<LuaValue, LuaValue>> entries = new ArrayList<>(map.size());
            map.forEach((k, v) -> entries.add(Map.entry(LuaValue.valueOf(k), LuaValue.valueOf(v))));
            return entries;
        }

        void checkMutable() {
            handle.check();
            if (!trailers) {
                handle.stream.checkHeadersMutable(handle.direction);
            }
        }

        void changed() {
            if (!trailers && handle.clearRouteCache && handle.direction == Direction.REQUEST) {
                handle.stream.onLoop(() -> {
                    handle.stream.callbacks().clearRouteCache();
                    return null;
                });
            }
        }
    }

    /** A whole body ({@code chunk == false}) or the current chunk of {@code bodyChunks()}. */
    record Buffer(Handle handle, boolean chunk, ByteBuf chunkBuf) implements OfHandle {
        ByteBuf buf() {
            handle.check();
            if (chunk) {
                if (handle.stream.currentChunk(handle.direction) != chunkBuf || chunkBuf == null) {
                    throw new LuaError("object used outside of proper scope");
                }
                return chunkBuf;
            }
            return handle.stream.body(handle.direction);
        }
    }

    record Info(Handle handle) implements OfHandle { }

    record DynMeta(Handle handle) implements OfHandle { }

    record Metadata(Struct struct) { }

    record Connection(Handle handle) implements OfHandle { }

    record FilterState(Handle handle) implements OfHandle { }

    /** {@code connectionStreamInfo()}: connection-level info; its dynamic metadata is empty in Legate. */
    record ConnectionInfo(Handle handle) implements OfHandle { }

    // Methods

    private LuaTable streamMethods() {
        LuaTable m = new LuaTable();
        m.set("headers", method(Handle.class, (h, a) -> {
            h.check();
            if (h.headers == null) {
                h.headers = new LuaUserdata(new Headers(h, h.stream.headers(h.direction), false), headersMeta);
            }
            return h.headers;
        }));
        m.set("body", method(Handle.class, (h, a) -> {
            h.check();
            boolean alwaysWrap = a.arg(2).toboolean();
            if (h.stream.mustWaitForBody(h.direction)) {
                h.call.await(() -> h.stream.awaitBody(h.direction), "body()");
            }
            ByteBuf b = h.stream.body(h.direction);
            if (b == null && !alwaysWrap) {
                return NIL;
            }
            return new LuaUserdata(new Buffer(h, false, null), bufferMeta);
        }));
        m.set("bodyChunks", method(Handle.class, (h, a) -> {
            h.check();
            return new VarArgFunction() {
                @Override
                public Varargs invoke(Varargs args) {
                    return usage(() -> {
                        h.check();
                        if (!h.call.awaitIf(() -> h.stream.awaitChunk(h.direction), "bodyChunks()")) {
                            return NIL;
                        }
                        ByteBuf chunk = h.stream.currentChunk(h.direction);
                        return chunk == null ? NIL : new LuaUserdata(new Buffer(h, true, chunk), bufferMeta);
                    });
                }
            };
        }));
        m.set("trailers", method(Handle.class, (h, a) -> {
            h.check();
            if (h.stream.mustWaitForBody(h.direction)) {
                h.call.await(() -> h.stream.awaitTrailers(h.direction), "trailers()");
            }
            HeaderMap t = h.stream.trailers(h.direction);
            return t == null ? NIL : new LuaUserdata(new Headers(h, t, true), headersMeta);
        }));
        m.set("metadata", method(Handle.class, (h, a) -> {
            h.check();
            return new LuaUserdata(new Metadata(h.stream.routeMetadata()), metadataMeta);
        }));
        m.set("streamInfo", method(Handle.class, (h, a) -> {
            h.check();
            return new LuaUserdata(new Info(h), streamInfoMeta);
        }));
        m.set("connection", method(Handle.class, (h, a) -> {
            h.check();
            return new LuaUserdata(new Connection(h), connectionMeta);
        }));
        m.set("respond", method(Handle.class, (h, a) -> {
            h.check();
            LuaTable headers = a.checktable(2);
            LuaValue body = a.arg(3);
            h.stream.respond(h.direction, headerList(headers), body.isnil() ? null : bytes(body));
            return NONE;
        }));
        m.set("httpCall", method(Handle.class, (h, a) -> httpCall(h, a)));
        m.set("clearRouteCache", method(Handle.class, (h, a) -> {
            h.check();
            h.stream.onLoop(() -> {
                h.stream.callbacks().clearRouteCache();
                return null;
            });
            return NONE;
        }));
        m.set("connectionStreamInfo", method(Handle.class, (h, a) -> {
            h.check();
            return new LuaUserdata(new ConnectionInfo(h), connectionInfoMeta);
        }));
        m.set("filterContext", method(Handle.class, (h, a) -> {
            h.check();
            return new LuaTable(); // LuaPerRoute.filter_context is not in the Envoy API version Legate builds on
        }));
        m.set("setUpstreamOverrideHost", method(Handle.class, (h, a) -> {
            h.check();
            throw new LuaError("setUpstreamOverrideHost is not supported by Legate");
        }));
        m.set("importPublicKey", method(Handle.class, (h, a) -> {
            byte[] der = bytes(a.checkstring(2));
            int len = a.optint(3, der.length);
            byte[] key = java.util.Arrays.copyOf(der, Math.max(0, Math.min(len, der.length)));
            for (String alg : new String[] {"RSA", "EC"}) {
                try {
                    return LuaValue.userdataOf(java.security.KeyFactory.getInstance(alg)
                            .generatePublic(new java.security.spec.X509EncodedKeySpec(key)));
                } catch (java.security.GeneralSecurityException e) {
                    // try the next algorithm
                }
            }
            return NIL;
        }));
        m.set("verifySignature", method(Handle.class, (h, a) -> {
            String hash = a.checkjstring(2);
            Object key = a.arg(3).isuserdata() ? a.arg(3).touserdata() : null;
            byte[] sig = bytes(a.checkstring(4));
            int sigLen = a.optint(5, sig.length);
            byte[] data = bytes(a.checkstring(6));
            int dataLen = a.optint(7, data.length);
            if (!java.util.Set.of("SHA1", "SHA224", "SHA256", "SHA384", "SHA512").contains(hash)) {
                return LuaValue.varargsOf(LuaValue.FALSE, LuaValue.valueOf(hash + " is not supported."));
            }
            if (!(key instanceof java.security.PublicKey pk)) {
                return LuaValue.varargsOf(LuaValue.FALSE, LuaValue.valueOf("Failed to verify digest. Error code: 0"));
            }
            try {
                java.security.Signature v = java.security.Signature.getInstance(
                        hash + "with" + (pk.getAlgorithm().equals("EC") ? "ECDSA" : pk.getAlgorithm()));
                v.initVerify(pk);
                v.update(data, 0, Math.max(0, Math.min(dataLen, data.length)));
                if (v.verify(sig, 0, Math.max(0, Math.min(sigLen, sig.length)))) {
                    return LuaValue.varargsOf(LuaValue.TRUE, NIL);
                }
            } catch (java.security.GeneralSecurityException e) {
                // reported as a failed verification, like Envoy
            }
            return LuaValue.varargsOf(LuaValue.FALSE, LuaValue.valueOf("Failed to verify digest. Error code: 0"));
        }));
        m.set("logTrace", log(LogLevel.TRACE));
        m.set("logDebug", log(LogLevel.DEBUG));
        m.set("logInfo", log(LogLevel.INFO));
        m.set("logWarn", log(LogLevel.WARN));
        m.set("logErr", log(LogLevel.ERROR));
        m.set("logCritical", log(LogLevel.CRITICAL));
        m.set("base64Escape", method(Handle.class, (h, a) ->
                LuaValue.valueOf(Base64.getEncoder().encodeToString(bytes(a.checkstring(2))))));
        m.set("timestamp", method(Handle.class, (h, a) ->
                LuaValue.valueOf((double) h.stream.callbacks().dispatcher().currentTimeMillis())));
        m.set("timestampString", method(Handle.class, (h, a) -> {
            long micros = Math.addExact(Math.multiplyExact(System.currentTimeMillis(), 1000L),
                    (System.nanoTime() / 1000) % 1000);
            boolean micro = a.arg(2).optint(0) == 1;
            return LuaValue.valueOf(Long.toString(micro ? micros : micros / 1000));
        }));
        return m;
    }

    private Varargs httpCall(Handle h, Varargs a) {
        h.check();
        String cluster = a.checkjstring(2);
        LuaTable headers = a.checktable(3);
        LuaValue body = a.arg(4);
        long timeoutMs;
        boolean async;
        boolean duplicates = false;
        if (a.arg(5).istable()) {
            LuaTable options = (LuaTable) a.arg(5);
            timeoutMs = options.get("timeout_ms").optlong(0);
            async = options.get("asynchronous").optboolean(false);
            duplicates = options.get("return_duplicate_headers").optboolean(false);
        } else {
            timeoutMs = a.arg(5).checklong();
            async = a.arg(6).optboolean(false);
        }
        if (timeoutMs < 0) {
            throw new LuaError("http call timeout must be >= 0");
        }
        HttpCallRequest request = new HttpCallRequest(cluster, headerList(headers),
                body.isnil() ? null : bytes(body.checkstring()), timeoutMs);
        if (async) {
            h.stream.httpCallAsync(request);
            return NONE;
        }
        h.call.await(() -> h.stream.awaitHttpCall(h.direction, request), "httpCall()");
        HttpCallResult r = h.stream.httpCallResult(h.direction);
        LuaTable out = new LuaTable();
        for (Map.Entry<String, String> e : r.headers()) {
            LuaValue k = LuaValue.valueOf(e.getKey());
            LuaValue v = LuaValue.valueOf(e.getValue());
            LuaValue old = out.get(k);
            if (duplicates && !old.isnil()) {
                if (old.istable()) {
                    ((LuaTable) old).insert(0, v);
                } else {
                    out.set(k, LuaValue.listOf(new LuaValue[] {old, v}));
                }
            } else {
                out.set(k, v);
            }
        }
        return LuaValue.varargsOf(out, r.body() == null ? NIL : LuaString.valueOf(r.body()));
    }

    private LuaTable headerMethods() {
        LuaTable m = new LuaTable();
        m.set("get", method(Headers.class, (h, a) -> {
            h.handle.check();
            List<String> values = h.map.getAll(a.checkjstring(2));
            if (values.isEmpty()) {
                return NIL;
            }
            return LuaValue.valueOf(values.size() == 1 ? values.get(0) : String.join(",", values));
        }));
        m.set("getAtIndex", method(Headers.class, (h, a) -> {
            h.handle.check();
            List<String> values = h.map.getAll(a.checkjstring(2));
            int i = a.checkint(3);
            return i >= 0 && i < values.size() ? LuaValue.valueOf(values.get(i)) : NIL;
        }));
        m.set("getNumValues", method(Headers.class, (h, a) -> {
            h.handle.check();
            return LuaValue.valueOf(h.map.getAll(a.checkjstring(2)).size());
        }));
        m.set("add", method(Headers.class, (h, a) -> {
            h.checkMutable();
            h.map.add(a.checkjstring(2), a.checkjstring(3));
            h.changed();
            return NONE;
        }));
        m.set("replace", method(Headers.class, (h, a) -> {
            h.checkMutable();
            h.map.set(a.checkjstring(2), a.checkjstring(3));
            h.changed();
            return NONE;
        }));
        m.set("remove", method(Headers.class, (h, a) -> {
            h.checkMutable();
            h.map.remove(a.checkjstring(2));
            h.changed();
            return NONE;
        }));
        m.set("setHttp1ReasonPhrase", method(Headers.class, (h, a) -> {
            h.checkMutable();
            a.checkjstring(2);
            // Legate writes the standard reason phrase; documented as not supported (sdk-docs/filters/lua.md).
            return NONE;
        }));
        return m;
    }

    private LuaTable bufferMethods() {
        LuaTable m = new LuaTable();
        m.set("length", method(Buffer.class, (b, a) -> {
            ByteBuf buf = b.buf();
            return LuaValue.valueOf(buf == null ? 0 : buf.readableBytes());
        }));
        m.set("getBytes", method(Buffer.class, (b, a) -> {
            ByteBuf buf = b.buf();
            int size = buf == null ? 0 : buf.readableBytes();
            long index = a.checklong(2);
            long length = a.checklong(3);
            if (index < 0 || length < 0 || index + length > size) {
                throw new LuaError("index/length must be >= 0 and (index + length) must be <= buffer size");
            }
            byte[] out = new byte[(int) length];
            if (length > 0) {
                buf.getBytes(buf.readerIndex() + (int) index, out);
            }
            return LuaString.valueOf(out);
        }));
        m.set("setBytes", method(Buffer.class, (b, a) -> {
            b.buf();
            byte[] bytes = bytes(a.checkstring(2));
            if (b.chunk) {
                b.handle.stream.setChunk(b.handle.direction, bytes);
            } else {
                b.handle.stream.setBody(b.handle.direction, bytes);
            }
            return NONE;
        }));
        return m;
    }

    private LuaTable streamInfoMethods() {
        LuaTable m = new LuaTable();
        m.set("protocol", method(Info.class, (i, a) -> str(info(i).protocol())));
        m.set("routeName", method(Info.class, (i, a) -> str(info(i).routeName() == null ? "" : info(i).routeName())));
        m.set("virtualClusterName", method(Info.class, (i, a) -> LuaValue.valueOf("")));
        m.set("downstreamLocalAddress", method(Info.class, (i, a) -> address(info(i).downstreamLocalAddress())));
        m.set("downstreamDirectLocalAddress", method(Info.class,
                (i, a) -> address(info(i).downstreamLocalAddress())));
        m.set("downstreamRemoteAddress", method(Info.class, (i, a) -> address(info(i).downstreamRemoteAddress())));
        m.set("downstreamDirectRemoteAddress", method(Info.class,
                (i, a) -> address(info(i).downstreamRemoteAddress())));
        m.set("requestedServerName", method(Info.class, (i, a) -> {
            info(i);
            return LuaValue.valueOf("");
        }));
        m.set("downstreamSslConnection", method(Info.class, (i, a) -> {
            info(i);
            return NIL;
        }));
        m.set("dynamicMetadata", method(Info.class, (i, a) -> {
            info(i);
            return new LuaUserdata(new DynMeta(i.handle), dynamicMetadataMeta);
        }));
        m.set("filterState", method(Info.class, (i, a) -> {
            info(i);
            return new LuaUserdata(new FilterState(i.handle), filterStateMeta);
        }));
        return m;
    }

    private LuaTable dynamicMetadataMethods() {
        LuaTable m = new LuaTable();
        m.set("get", method(DynMeta.class, (d, a) -> {
            d.handle.check();
            Map<String, Object> ns = d.handle.stream.dynamicMetadata().get(a.checkjstring(2));
            return ns == null ? NIL : LuaValues.ofJava(ns);
        }));
        m.set("set", method(DynMeta.class, (d, a) -> {
            d.handle.check();
            d.handle.stream.dynamicMetadata().set(a.checkjstring(2), a.checkjstring(3), LuaValues.toJava(a.arg(4)));
            return NONE;
        }));
        return m;
    }

    private LuaTable metadataMethods() {
        LuaTable m = new LuaTable();
        m.set("get", method(Metadata.class, (md, a) -> {
            var v = md.struct.getFieldsMap().get(a.checkjstring(2));
            return v == null ? NIL : LuaValues.of(v);
        }));
        return m;
    }

    private LuaTable connectionMethods() {
        LuaTable m = new LuaTable();
        m.set("ssl", method(Connection.class, (c, a) -> {
            c.handle.check();
            return NIL; // plaintext: Legate's listeners do not terminate TLS yet
        }));
        return m;
    }

    private LuaTable filterStateMethods() {
        LuaTable m = new LuaTable();
        m.set("get", method(FilterState.class, (f, a) -> {
            f.handle.check();
            a.checkjstring(2);
            return NIL; // no string-keyed filter state in Legate (typed StateKeys only)
        }));
        return m;
    }

    // Helpers

    private static StreamInfo info(Info i) {
        i.handle.check();
        return i.handle.stream.streamInfo();
    }

    private static LuaValue str(String s) {
        return s == null ? NIL : LuaValue.valueOf(s);
    }

    private static LuaValue address(InetSocketAddress a) {
        if (a == null) {
            return NIL;
        }
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        if (host.indexOf(':') >= 0) {
            host = "[" + host + "]";
        }
        return LuaValue.valueOf(host + ":" + a.getPort());
    }

    private static byte[] bytes(LuaValue v) {
        LuaString s = v.checkstring();
        byte[] out = new byte[s.m_length];
        s.copyInto(0, out, 0, s.m_length);
        return out;
    }

    /** A Lua headers table ({@code name → value} or {@code name → {values}}) as an ordered list. */
    private static List<Map.Entry<String, String>> headerList(LuaTable t) {
        List<Map.Entry<String, String>> list = new ArrayList<>();
        LuaValue k = NIL;
        while (true) {
            Varargs e = t.next(k);
            if ((k = e.arg1()).isnil()) {
                break;
            }
            LuaValue v = e.arg(2);
            String name = k.checkjstring();
            if (v.istable()) {
                LuaTable vs = (LuaTable) v;
                for (int i = 1; i <= vs.length(); i++) {
                    list.add(Map.entry(name, vs.get(i).checkjstring()));
                }
            } else {
                list.add(Map.entry(name, v.checkjstring()));
            }
        }
        // pseudo-headers first, as HTTP/2 requires and the codec expects
        list.sort((x, y) -> Boolean.compare(!x.getKey().startsWith(":"), !y.getKey().startsWith(":")));
        return list;
    }

    /** An iterator triple over a snapshot, for {@code __pairs}. */
    private static Varargs pairs(List<Map.Entry<LuaValue, LuaValue>> entries) {
        VarArgFunction next = new VarArgFunction() {
            int i;

            @Override
            public Varargs invoke(Varargs args) {
                if (i >= entries.size()) {
                    return NIL;
                }
                Map.Entry<LuaValue, LuaValue> e = entries.get(i++);
                return LuaValue.varargsOf(e.getKey(), e.getValue());
            }
        };
        return LuaValue.varargsOf(next, NIL, NIL);
    }

    private static final LuaValue NIL = LuaValue.NIL;
    private static final Varargs NONE = LuaValue.NONE;

    private VarArgFunction log(LogLevel level) {
        return method(Handle.class, (h, a) -> {
            h.stream.log(level, a.checkjstring(2));
            return NONE;
        });
    }

    private static LuaTable meta(LuaTable methods) {
        LuaTable meta = new LuaTable();
        meta.set("__index", methods);
        meta.set("__metatable", LuaValue.FALSE);
        return meta;
    }

    /** A method: checks {@code self}'s type, turns {@link ScriptUsageException} into a Lua error. */
    private static <T> VarArgFunction method(Class<T> type, BiFunction<T, Varargs, Varargs> body) {
        return new VarArgFunction() {
            @Override
            public Varargs invoke(Varargs args) {
                T self = type.cast(args.checkuserdata(1, type));
                if (self instanceof OfHandle o && o.handle().valid) {
                    o.handle().call.checkThread();
                }
                return usage(() -> body.apply(self, args));
            }
        };
    }

    private static Varargs usage(java.util.function.Supplier<Varargs> body) {
        try {
            return body.get();
        } catch (ScriptUsageException e) {
            throw new LuaError(e.getMessage());
        }
    }
}
