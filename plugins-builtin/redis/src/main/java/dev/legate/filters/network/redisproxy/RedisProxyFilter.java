package dev.legate.filters.network.redisproxy;

import dev.legate.api.Dispatcher;
import dev.legate.api.network.CloseType;
import dev.legate.api.network.Connection;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterCallbacks;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.api.upstream.Host;
import dev.legate.api.upstream.UpstreamCluster;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Serves one Redis client connection (Envoy's {@code ProxyFilter}, {@code proxy_filter.cc}, and the command
 * splitter, {@code command_splitter_impl.cc}). One instance per connection; every method runs on the
 * connection's event loop.
 *
 * <h2>Requests</h2>
 * Bytes are framed as RESP (or inline commands); each complete request is parsed and handled in order;
 * many may be in flight (pipelining) and their replies are written in request order. A request that is not
 * a non-empty array of bulk strings is {@code invalid request} ({@code splitter.invalid_request}++). Then, as
 * Envoy: {@code AUTH} checks {@code downstream_auth_password(s)}/{@code downstream_auth_username}; until it
 * succeeds every other command is {@code NOAUTH Authentication required.}; {@code PING} ({@code PONG}),
 * {@code ECHO}, {@code TIME} and {@code QUIT} are answered here. Routed commands
 * ({@link RedisCommands}) go by key through the {@code prefix_routes} to a host of the route's cluster chosen
 * by the key's hash ({@link RedisKeyHash}); {@code MGET}, {@code MSET}, {@code DEL}, {@code EXISTS},
 * {@code TOUCH} and {@code UNLINK} are split into one command per key and their replies merged;
 * {@code MULTI}...{@code EXEC}/{@code DISCARD} run on a connection of their own to the first key's host. Any
 * other command is {@code unsupported command '<name>'} ({@code splitter.unsupported_command}++).
 *
 * <h2>RESP3</h2>
 * Not in Envoy: {@code HELLO [2|3] [AUTH user pass] [SETNAME name]} is answered here and switches the
 * connection's protocol. A RESP3 client's commands go over upstream connections that said {@code HELLO 3}
 * themselves, so replies pass through in the client's protocol; replies made here are encoded in it.
 *
 * <h2>Errors (Envoy's strings)</h2>
 * {@code no upstream host} (no route, no cluster, no healthy host), {@code upstream failure} (connect
 * failure, close, {@code op_timeout}), {@code upstream protocol error} (an MGET part that is not a string),
 * {@code finished with N error(s)} (MSET and the summed commands), {@code wrong number of arguments for
 * '<name>' command}. Bytes that are not RESP: {@code downstream_cx_protocol_error}++, the error
 * {@code downstream protocol error} and the connection closed.
 *
 * <h2>Flow control</h2>
 * While the client's write buffer is above its high watermark (it does not read its replies), the
 * connection is not read, so no more commands pile up; reading resumes below the low watermark.
 *
 * <h2>Buffers</h2>
 * Incoming bytes are borrowed: complete requests are parsed from them (copying), an incomplete tail is
 * copied into a cumulation buffer this filter owns. Raw upstream replies arrive as slices this filter
 * releases after copying them into the write buffer, which {@link Connection#write} releases.
 */
final class RedisProxyFilter implements NetworkFilter, RedisUpstreamClient.ReplySink {

    static final String NO_UPSTREAM_HOST = "no upstream host";
    static final String UPSTREAM_FAILURE = "upstream failure";
    static final String UPSTREAM_PROTOCOL_ERROR = "upstream protocol error";
    static final String INVALID_REQUEST = "invalid request";
    static final String AUTH_REQUIRED = "NOAUTH Authentication required.";

    private static final byte[] GET = bytes("get");
    private static final byte[] SET = bytes("set");

    private final RedisProxySettings settings;
    private final RedisProxyStats stats;
    private final RedisConnPool pool;
    private final NetworkFilterCallbacks callbacks;
    private final Connection connection;
    private final Dispatcher dispatcher;

    private RedisConnPool.Worker worker;
    private ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    private ByteBuf in;
    /** Where the scan of the incomplete request at the start of {@link #in} stopped. */
    private final RespDecoder.Scanner scanner = new RespDecoder.Scanner();
    /** What this connection adds to {@code downstream_cx_rx_bytes_buffered}. */
    private long bufferedReported;
    private final ArrayDeque<Request> pending = new ArrayDeque<>();
    /** Upstream clients written to while handling the current read; flushed at its end. */
    private final List<RedisUpstreamClient> touched = new ArrayList<>(4);

    /** The frame of the request being handled, when it is a RESP array (not inline): passed on as is. */
    private ByteBuf frame;
    private int frameFrom;
    private int frameEnd;

    /** Envoy's {@code Transaction}: MULTI seen; the key that chose the host; the connection it runs on. */
    private boolean txActive;
    private String txKey;
    private RedisUpstreamClient txClient;

    /** Reads paused because the client is not reading its replies (its write buffer is above high). */
    private boolean readPaused;

    private boolean connectionAllowed;
    private boolean resp3;
    private boolean quit;
    private boolean peerEnded;
    private boolean closing;
    private boolean done;

    RedisProxyFilter(RedisProxySettings settings, RedisConnPool pool, NetworkFilterCallbacks callbacks) {
        this.settings = settings;
        this.stats = settings.stats();
        this.pool = pool;
        this.callbacks = callbacks;
        this.connection = callbacks.connection();
        this.dispatcher = connection.dispatcher();
        this.connectionAllowed = !settings.authRequired();
    }

    // NetworkFilter: ReadFilter

    @Override
    public FilterStatus onNewConnection() {
        stats.downstreamCxTotal().inc();
        stats.downstreamCxActive().inc();
        worker = pool.worker(dispatcher);
        connection.addWatermarkCallbacks(new WatermarkCallbacks() {
            @Override
            public void onAboveWriteBufferHighWatermark() {
                // A client that does not read its replies stops being read: no more commands pile up.
                if (!readPaused && !done) {
                    readPaused = true;
                    connection.readDisable(true);
                }
            }

            @Override
            public void onBelowWriteBufferLowWatermark() {
                if (readPaused) {
                    readPaused = false;
                    if (!done) {
                        connection.readDisable(false);
                    }
                }
            }
        });
        return FilterStatus.CONTINUE;
    }

    /**
     * Client bytes: every complete request is handled; an incomplete one is kept for the next read.
     *
     * @param data borrowed; fully consumed
     */
    @Override
    public FilterStatus onData(ByteBuf data, boolean endStream) {
        if (closing || done) {
            data.skipBytes(data.readableBytes());
            return FilterStatus.STOP_ITERATION;
        }
        alloc = data.alloc();
        int n = data.readableBytes();
        stats.downstreamCxRxBytesTotal().add(n);
        ByteBuf buf;
        if (in == null) {
            buf = data;
        } else {
            in.writeBytes(data); // consumes data
            buf = in;
        }
        int from = buf.readerIndex();
        try {
            while (!closing && !quit) {
                int end = scanner.frameEnd(buf, from, true);
                if (end < 0) {
                    break;
                }
                RespValue request = RespDecoder.decode(buf, from, end, true);
                frame = buf.getByte(from) == '*' ? buf : null;
                frameFrom = from;
                frameEnd = end;
                from = end;
                onRequest(request);
                frame = null;
            }
        } catch (RespDecoder.RespProtocolException e) {
            buf.readerIndex(buf.writerIndex());
            releaseIn();
            flushUpstreams();
            protocolError();
            return FilterStatus.STOP_ITERATION;
        }
        buf.readerIndex(from);
        int left = buf.readableBytes();
        if (buf == data) {
            if (left > 0) {
                in = alloc.buffer(Math.max(256, left * 2));
                in.writeBytes(data);
            }
        } else if (left == 0) {
            releaseIn();
        } else {
            in.discardSomeReadBytes();
        }
        reportBuffered(in == null ? 0 : in.readableBytes());
        flushUpstreams();
        if (endStream) {
            peerEnded = true;
        }
        flushReplies();
        return FilterStatus.STOP_ITERATION;
    }

    // NetworkFilter: ConnectionCallbacks

    @Override
    public void onConnectionEvent(ConnectionEvent event) {
        if (done) {
            return;
        }
        done = true;
        closing = true;
        stats.downstreamCxActive().dec();
        releaseIn();
        if (txClient != null) {
            txClient.close();
            txClient = null;
        }
        Request r;
        while ((r = pending.poll()) != null) {
            stats.downstreamRqActive().dec();
            r.cancel();
        }
    }

    // ReplySink

    /** Writes the replies at the head of the queue that are complete, in order, as one buffer. */
    @Override
    public void flushReplies() {
        if (done) {
            return;
        }
        ByteBuf out = null;
        Request r;
        while ((r = pending.peek()) != null && r.done) {
            pending.poll();
            stats.downstreamRqActive().dec();
            if (out == null) {
                out = alloc.buffer(r.raw != null ? r.raw.readableBytes() + 64 : 128);
            }
            if (r.raw != null) {
                out.writeBytes(r.raw);
                r.raw.release();
                r.raw = null;
            } else {
                RespEncoder.encode(r.reply, out, r.resp3);
            }
        }
        if (out != null) {
            stats.downstreamCxTxBytesTotal().add(out.readableBytes());
            connection.write(out, false);
        }
        if ((quit || peerEnded) && pending.isEmpty() && !closing) {
            closing = true;
            connection.close(CloseType.FLUSH_WRITE);
        }
    }

    // Requests

    private void onRequest(RespValue request) {
        List<RespValue> args = request.elements();
        if (request.type() == RespValue.Type.ARRAY && args != null && args.isEmpty()) {
            return; // an empty inline line: Redis ignores it
        }
        stats.downstreamRqTotal().inc();
        stats.downstreamRqActive().inc();
        Request r = new Request(null);
        pending.add(r);
        if (request.type() != RespValue.Type.ARRAY || args == null) {
            invalid(r);
            return;
        }
        for (RespValue a : args) {
            if (a.type() != RespValue.Type.BULK_STRING) {
                invalid(r);
                return;
            }
        }
        String name = args.get(0).asString();
        String command = RedisCommands.lower(name);
        switch (command) {
            case "auth" -> {
                if (args.size() < 2) {
                    invalid(r);
                } else if (args.size() == 3) {
                    r.local(auth(args.get(1).asString(), args.get(2).asString()));
                } else {
                    r.local(auth(args.get(1).asString()));
                }
                return;
            }
            case "hello" -> {
                hello(r, args);
                return;
            }
            default -> {
            }
        }
        if (!connectionAllowed) {
            r.local(RespValue.error(AUTH_REQUIRED));
            return;
        }
        switch (command) {
            case "ping" -> {
                r.local(RespValue.PONG);
                return;
            }
            case "echo" -> {
                if (args.size() != 2) {
                    invalid(r);
                } else {
                    r.local(RespValue.bulk(args.get(1).bytes()));
                }
                return;
            }
            case "time" -> {
                // As Envoy: seconds, and the time since the epoch in microseconds.
                long micros = Math.multiplyExact(dispatcher.currentTimeMillis(), 1000L);
                r.local(RespValue.array(List.of(RespValue.bulk(Long.toString(micros / 1_000_000)),
                        RespValue.bulk(Long.toString(micros)))));
                return;
            }
            case "quit" -> {
                quit = true;
                r.local(RespValue.OK);
                return;
            }
            default -> {
            }
        }
        boolean txCommand = RedisCommands.TRANSACTION.contains(command);
        if (args.size() < 2 && !txCommand) {
            invalid(r);
            return;
        }
        RedisProxyStats.CommandStats cs = stats.commands().get(command);
        if (cs == null) {
            stats.unsupportedCommand().inc();
            r.local(RespValue.error("unsupported command '" + name + "'"));
            return;
        }
        if (txActive || txCommand) {
            // As Envoy: inside a transaction every command is handled (and counted) by the MULTI handler.
            cs = stats.commands().get("multi");
            cs.total().inc();
            r.command = cs;
            r.startNanos = System.nanoTime();
            transaction(r, command, name, args);
            return;
        }
        cs.total().inc();
        r.command = cs;
        r.startNanos = System.nanoTime();
        if (RedisCommands.SIMPLE.contains(command) || settings.isCustomCommand(command)) {
            single(r, command, args, 1);
        } else if (RedisCommands.EVAL.contains(command)) {
            if (args.size() < 4) {
                wrongNumberOfArguments(r, name);
            } else {
                single(r, command, args, 3);
            }
        } else if (command.equals(RedisCommands.MGET)) {
            fragmented(r, Kind.MGET, args, command);
        } else if (command.equals(RedisCommands.MSET)) {
            if ((args.size() - 1) % 2 != 0) {
                wrongNumberOfArguments(r, name);
            } else {
                fragmented(r, Kind.MSET, args, command);
            }
        } else {
            fragmented(r, Kind.SUM, args, command);
        }
    }

    private void invalid(Request r) {
        stats.invalidRequest().inc();
        r.local(RespValue.error(INVALID_REQUEST));
    }

    private void wrongNumberOfArguments(Request r, String name) {
        r.command.error().inc();
        r.command = null;
        r.local(RespValue.error("wrong number of arguments for '" + name + "' command"));
    }

    /** A command sent whole to the host of the key at {@code keyIndex}. */
    private void single(Request r, String command, List<RespValue> args, int keyIndex) {
        List<byte[]> out = new ArrayList<>(args.size());
        for (RespValue a : args) {
            out.add(a.bytes());
        }
        RedisUpstreamClient c = route(command, args.get(keyIndex).asString(), out, keyIndex);
        if (c == null) {
            r.command.error().inc();
            r.command = null;
            r.local(RespValue.error(NO_UPSTREAM_HOST));
            return;
        }
        if (frame != null && out.get(keyIndex) == args.get(keyIndex).bytes()) {
            c.send(frame, frameFrom, frameEnd, r); // unchanged: the client's bytes, not re-encoded
        } else {
            c.send(out, r);
        }
    }

    private enum Kind { MGET, MSET, SUM }

    /** MGET, MSET and the summed commands: one command per key, replies merged (Envoy's FragmentedRequest). */
    private void fragmented(Request r, Kind kind, List<RespValue> args, String command) {
        int step = kind == Kind.MSET ? 2 : 1;
        int parts = (args.size() - 1) / step;
        r.fragments = new RespValue[parts];
        r.remaining = parts;
        byte[] name = kind == Kind.MGET ? GET : kind == Kind.MSET ? SET : args.get(0).bytes();
        String childCommand = kind == Kind.MGET ? "get" : kind == Kind.MSET ? "set" : command;
        r.kind = kind;
        for (int i = 0; i < parts; i++) {
            int k = 1 + i * step;
            List<byte[]> out = new ArrayList<>(step + 1);
            out.add(name);
            out.add(args.get(k).bytes());
            if (kind == Kind.MSET) {
                out.add(args.get(k + 1).bytes());
            }
            Fragment f = new Fragment(r, i);
            RedisUpstreamClient c = route(childCommand, args.get(k).asString(), out, 1);
            if (c == null) {
                f.onReply(null, RespValue.error(NO_UPSTREAM_HOST));
            } else {
                c.send(out, f);
            }
        }
    }

    /**
     * Routes {@code key}: applies the route's {@code remove_prefix}/{@code key_formatter} to
     * {@code out[keyIndex]}, sends mirrors, and returns the client of the key's host, or {@code null}.
     */
    private RedisUpstreamClient route(String command, String key, List<byte[]> out, int keyIndex) {
        RedisProxySettings.Route route = settings.route(key);
        if (route == null) {
            return null;
        }
        String k = key;
        if (route.removePrefix()) {
            k = k.substring(route.prefix().length());
        }
        if (route.keyFormatter() != null) {
            k = route.keyFormatter().replace("%KEY%", k);
        }
        if (!k.equals(key)) {
            out.set(keyIndex, k.getBytes(StandardCharsets.ISO_8859_1));
        }
        RedisKeyHash hash = new RedisKeyHash(k, settings.hashtagging());
        RedisUpstreamClient c = client(route.clusterFor(command), hash);
        if (c != null) {
            for (RedisProxySettings.Mirror m : route.mirrors()) {
                if (m.shouldMirror(command)) {
                    RedisUpstreamClient mc = client(m.cluster(), hash);
                    if (mc != null) {
                        mc.send(out, RedisUpstreamClient.IGNORE);
                    }
                }
            }
        }
        return c;
    }

    private RedisUpstreamClient client(String clusterName, RedisKeyHash hash) {
        UpstreamCluster cluster = callbacks.clusterManager().cluster(clusterName);
        if (cluster == null) {
            return null;
        }
        Host host = cluster.chooseHost(hash);
        if (host == null) {
            return null;
        }
        RedisUpstreamClient c = worker.client(cluster, host, resp3, alloc);
        if (!touched.contains(c)) {
            touched.add(c);
        }
        return c;
    }

    private void flushUpstreams() {
        for (int i = 0; i < touched.size(); i++) {
            touched.get(i).flush();
        }
        touched.clear();
    }

    // Transactions (Envoy's TransactionRequest)

    /**
     * MULTI/EXEC/DISCARD and the commands between them. MULTI is answered here; the first keyed command
     * opens a connection of its own to that key's host, sends MULTI there and then the command; every later
     * command goes the same way; EXEC or DISCARD ends it and the connection closes once it has replied.
     */
    private void transaction(Request r, String command, String name, List<RespValue> args) {
        boolean txCommand = RedisCommands.TRANSACTION.contains(command);
        if (!txCommand && !RedisCommands.SIMPLE.contains(command)) {
            r.command = null;
            r.local(RespValue.error("'" + name + "' command is not supported within transaction"));
            return;
        }
        boolean end = false;
        switch (command) {
            case "multi" -> {
                if (txActive) {
                    r.command = null;
                    r.local(RespValue.error("MULTI calls can not be nested"));
                    return;
                }
                txActive = true;
                r.command = null;
                r.local(RespValue.OK);
                return;
            }
            case "exec", "discard" -> {
                r.command = null;
                if (!txActive) {
                    r.local(RespValue.error(command.toUpperCase(java.util.Locale.ROOT) + " without MULTI"));
                    return;
                }
                if (txClient == null) {
                    r.local(command.equals("exec") ? RespValue.array(List.of()) : RespValue.OK);
                    endTransaction();
                    return;
                }
                r.command = stats.commands().get("multi");
                end = true;
            }
            default -> {
            }
        }
        if (txClient == null) {
            txKey = args.get(1).asString();
            RedisProxySettings.Route route = settings.route(txKey);
            UpstreamCluster cluster = route == null ? null : callbacks.clusterManager().cluster(route.cluster());
            Host host = cluster == null ? null : cluster.chooseHost(new RedisKeyHash(txKey, settings.hashtagging()));
            if (host == null) {
                r.command.error().inc();
                r.command = null;
                r.local(RespValue.error(NO_UPSTREAM_HOST));
                return;
            }
            txClient = new RedisUpstreamClient(worker, cluster, host, resp3, settings, alloc);
            txClient.send(List.of(bytes("MULTI")), RedisUpstreamClient.IGNORE);
        }
        List<byte[]> out = new ArrayList<>(args.size());
        for (RespValue a : args) {
            out.add(a.bytes());
        }
        RedisUpstreamClient c = txClient;
        c.send(out, r);
        if (!touched.contains(c)) {
            touched.add(c);
        }
        if (end) {
            c.closeWhenIdle();
            endTransaction();
        }
    }

    private void endTransaction() {
        txActive = false;
        txKey = null;
        txClient = null;
    }

    // AUTH and HELLO (Envoy's ProxyFilter::onAuth)

    private RespValue auth(String password) {
        if (settings.passwords().isEmpty()) {
            return RespValue.error("ERR Client sent AUTH, but no password is set");
        }
        if (settings.checkPassword(password)) {
            connectionAllowed = true;
            return RespValue.OK;
        }
        connectionAllowed = false;
        return RespValue.error("ERR invalid password");
    }

    private RespValue auth(String username, String password) {
        if (settings.username().isEmpty() && settings.passwords().isEmpty()) {
            return RespValue.error("ERR Client sent AUTH, but no username-password pair is set");
        }
        if (settings.username().isEmpty() && username.equals("default")) {
            return auth(password);
        }
        if (username.equals(settings.username()) && settings.checkPassword(password)) {
            connectionAllowed = true;
            return RespValue.OK;
        }
        connectionAllowed = false;
        return RespValue.error("WRONGPASS invalid username-password pair");
    }

    /** {@code HELLO [protover [AUTH username password] [SETNAME clientname]]}, as Redis 7 answers it. */
    private void hello(Request r, List<RespValue> args) {
        int proto = resp3 ? 3 : 2;
        int i = 1;
        if (args.size() > 1) {
            String v = args.get(1).asString();
            long p;
            try {
                p = Long.parseLong(v);
            } catch (NumberFormatException e) {
                r.local(RespValue.error("ERR Protocol version is not an integer or out of range"));
                return;
            }
            if (p != 2 && p != 3) {
                r.local(RespValue.error("NOPROTO unsupported protocol version"));
                return;
            }
            proto = (int) p;
            i = 2;
        }
        while (i < args.size()) {
            String opt = RedisCommands.lower(args.get(i).asString());
            if (opt.equals("auth") && i + 2 < args.size()) {
                RespValue result = auth(args.get(i + 1).asString(), args.get(i + 2).asString());
                if (result.isError()) {
                    r.local(result);
                    return;
                }
                i += 3;
            } else if (opt.equals("setname") && i + 1 < args.size()) {
                i += 2;
            } else {
                r.local(RespValue.error("ERR Syntax error in HELLO option '" + args.get(i).asString() + "'"));
                return;
            }
        }
        if (!connectionAllowed) {
            r.local(RespValue.error("NOAUTH HELLO must be called with the client already authenticated, otherwise "
                    + "the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                    + "select the RESP protocol version at the same time"));
            return;
        }
        resp3 = proto == 3;
        r.resp3 = resp3;
        r.local(RespValue.aggregate(RespValue.Type.MAP, List.of(
                RespValue.bulk("server"), RespValue.bulk("redis"),
                RespValue.bulk("version"), RespValue.bulk("7.0.0"),
                RespValue.bulk("proto"), RespValue.integer(proto),
                RespValue.bulk("id"), RespValue.integer(connection.id()),
                RespValue.bulk("mode"), RespValue.bulk("standalone"),
                RespValue.bulk("role"), RespValue.bulk("master"),
                RespValue.bulk("modules"), RespValue.array(List.of()))));
    }

    private void protocolError() {
        stats.downstreamCxProtocolError().inc();
        ByteBuf out = alloc.buffer(32);
        RespEncoder.encode(RespValue.error("downstream protocol error"), out, false);
        connection.write(out, false);
        closing = true;
        connection.close(CloseType.FLUSH_WRITE);
    }

    private void releaseIn() {
        scanner.reset();
        if (in != null) {
            in.release();
            in = null;
        }
        reportBuffered(0);
    }

    /** Moves this connection's share of {@code downstream_cx_rx_bytes_buffered} to {@code bytes}. */
    private void reportBuffered(long bytes) {
        if (bytes != bufferedReported) {
            stats.downstreamCxRxBytesBuffered().add(bytes - bufferedReported);
            bufferedReported = bytes;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    // One request

    /** A request of this connection, in the reply queue. */
    private final class Request implements RedisUpstreamClient.ReplyHandler {
        RedisProxyStats.CommandStats command;
        long startNanos;
        boolean resp3 = RedisProxyFilter.this.resp3;
        boolean done;
        boolean cancelled;
        ByteBuf raw;
        RespValue reply;
        // Fragmented requests
        Kind kind;
        RespValue[] fragments;
        int remaining;

        Request(RedisProxyStats.CommandStats command) {
            this.command = command;
        }

        /** A reply made here: no command stats beyond what the caller counted. */
        void local(RespValue value) {
            reply = value;
            done = true;
        }

        void cancel() {
            cancelled = true;
            if (raw != null) {
                raw.release();
                raw = null;
            }
        }

        private void complete(boolean success) {
            if (command != null) {
                (success ? command.success() : command.error()).inc();
                long nanos = System.nanoTime() - startNanos;
                command.latency().record(settings.latencyInMicros() ? nanos / 1000 : nanos / 1_000_000);
            }
            done = true;
        }

        // ReplyHandler: a single-server request passes the reply on unparsed.

        @Override
        public boolean wantsRaw() {
            return true;
        }

        @Override
        public RedisUpstreamClient.ReplySink onReply(ByteBuf data, RespValue value) {
            if (cancelled) {
                data.release();
                return null;
            }
            raw = data;
            complete(true);
            return RedisProxyFilter.this;
        }

        @Override
        public RedisUpstreamClient.ReplySink onFailure() {
            if (cancelled) {
                return null;
            }
            reply = RespValue.error(UPSTREAM_FAILURE);
            complete(false);
            return RedisProxyFilter.this;
        }

        /** One part of a fragmented request replied (Envoy's {@code onChildResponse}). */
        void onFragment(int index, RespValue value) {
            fragments[index] = value;
            if (--remaining > 0) {
                return;
            }
            int errors = 0;
            switch (kind) {
                case MGET -> {
                    List<RespValue> out = new ArrayList<>(fragments.length);
                    for (RespValue v : fragments) {
                        switch (v.type()) {
                            case BULK_STRING, NULL -> out.add(v.type() == RespValue.Type.NULL ? RespValue.nullValue(false) : v);
                            case ERROR, BLOB_ERROR -> {
                                errors++;
                                out.add(v);
                            }
                            default -> {
                                errors++;
                                out.add(RespValue.error(UPSTREAM_PROTOCOL_ERROR));
                            }
                        }
                    }
                    reply = RespValue.array(out);
                }
                case MSET -> {
                    for (RespValue v : fragments) {
                        if (v.type() != RespValue.Type.SIMPLE_STRING || !v.asString().equals("OK")) {
                            errors++;
                        }
                    }
                    reply = errors == 0 ? RespValue.OK : finishedWith(errors);
                }
                case SUM -> {
                    long total = 0;
                    for (RespValue v : fragments) {
                        if (v.type() == RespValue.Type.INTEGER) {
                            total += v.integer();
                        } else {
                            errors++;
                        }
                    }
                    reply = errors == 0 ? RespValue.integer(total) : finishedWith(errors);
                }
            }
            fragments = null;
            complete(errors == 0);
        }
    }

    private static RespValue finishedWith(int errors) {
        return RespValue.error("finished with " + errors + " error(s)");
    }

    /** One key's command of a fragmented request; its reply is parsed. */
    private final class Fragment implements RedisUpstreamClient.ReplyHandler {
        private final Request parent;
        private final int index;

        Fragment(Request parent, int index) {
            this.parent = parent;
            this.index = index;
        }

        @Override
        public boolean wantsRaw() {
            return false;
        }

        @Override
        public RedisUpstreamClient.ReplySink onReply(ByteBuf data, RespValue value) {
            if (parent.cancelled) {
                return null;
            }
            parent.onFragment(index, value);
            return RedisProxyFilter.this;
        }

        @Override
        public RedisUpstreamClient.ReplySink onFailure() {
            return onReply(null, RespValue.error(UPSTREAM_FAILURE));
        }
    }
}
