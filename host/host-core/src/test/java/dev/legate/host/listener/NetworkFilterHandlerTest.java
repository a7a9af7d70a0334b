package dev.legate.host.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.legate.api.ConfigException;
import dev.legate.api.FactoryContext;
import dev.legate.api.config.ConfigType;
import dev.legate.api.network.Connection;
import dev.legate.api.network.ConnectionEvent;
import dev.legate.api.network.FilterStatus;
import dev.legate.api.network.NetworkFilter;
import dev.legate.api.network.NetworkFilterFactory;
import dev.legate.api.network.NetworkFilterInstaller;
import dev.legate.api.network.WatermarkCallbacks;
import dev.legate.host.Server;
import dev.legate.host.ServerOptions;
import dev.legate.host.plugin.fixture.EchoNetworkFilterFactory;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The network filter chain on a real listener, driven by a real socket on 127.0.0.1. */
class NetworkFilterHandlerTest {

    /** Events seen by the filters, in order, across threads. */
    static final BlockingQueue<String> EVENTS = new LinkedBlockingQueue<>();

    /**
     * Non-terminal: says "hi\n" on connect, upper-cases everything written to the peer (onWrite), and records
     * events. Config: a proto (TcpProxy, only to have a type; stat_prefix is the greeting).
     */
    static final class GreeterFactory implements NetworkFilterFactory<TcpProxy> {
        @Override
        public String name() {
            return "legate.test.greeter";
        }

        @Override
        public ConfigType<TcpProxy> configType() {
            return ConfigType.proto(TcpProxy.getDefaultInstance());
        }

        @Override
        public NetworkFilterInstaller create(TcpProxy config, FactoryContext context) {
            String greeting = config.getStatPrefix().isEmpty() ? "hi" : config.getStatPrefix();
            return callbacks -> new NetworkFilter() {
                @Override
                public FilterStatus onNewConnection() {
                    Connection c = callbacks.connection();
                    EVENTS.add("new:" + c.dispatcher().inEventLoop());
                    c.write(Unpooled.copiedBuffer(greeting + "\n", StandardCharsets.US_ASCII), false);
                    return FilterStatus.CONTINUE;
                }

                @Override
                public FilterStatus onWrite(ByteBuf data, boolean endStream) {
                    for (int i = data.readerIndex(); i < data.writerIndex(); i++) {
                        data.setByte(i, Character.toUpperCase((char) data.getByte(i)));
                    }
                    return FilterStatus.CONTINUE;
                }

                @Override
                public void onConnectionEvent(ConnectionEvent event) {
                    EVENTS.add("event:" + event);
                }
            };
        }
    }

    /** Terminal: on the first byte, writes 16 MiB to a peer that does not read; records watermark crossings. */
    static final class FloodFactory implements NetworkFilterFactory<TcpProxy> {
        @Override
        public String name() {
            return "legate.test.flood";
        }

        @Override
        public ConfigType<TcpProxy> configType() {
            return ConfigType.proto(TcpProxy.getDefaultInstance());
        }

        @Override
        public boolean isTerminal() {
            return true;
        }

        @Override
        public NetworkFilterInstaller create(TcpProxy config, FactoryContext context) {
            return callbacks -> new NetworkFilter() {
                @Override
                public FilterStatus onNewConnection() {
                    callbacks.connection().addWatermarkCallbacks(new WatermarkCallbacks() {
                        @Override
                        public void onAboveWriteBufferHighWatermark() {
                            EVENTS.add("above:" + callbacks.connection().isWritable());
                        }

                        @Override
                        public void onBelowWriteBufferLowWatermark() {
                            EVENTS.add("below:" + callbacks.connection().isWritable());
                        }
                    });
                    return FilterStatus.CONTINUE;
                }

                @Override
                public FilterStatus onData(ByteBuf data, boolean endStream) {
                    data.skipBytes(data.readableBytes());
                    for (int i = 0; i < 1024; i++) {
                        callbacks.connection().write(Unpooled.wrappedBuffer(new byte[16 * 1024]), false);
                    }
                    return FilterStatus.STOP_ITERATION;
                }
            };
        }
    }

    /**
     * Non-terminal: holds the chain (STOP on connect and on data, consuming nothing) until 100 ms after the first
     * bytes, then continues, as an asynchronous check (say, an external authorization) would.
     */
    static final class GateFactory implements NetworkFilterFactory<TcpProxy> {
        @Override
        public String name() {
            return "legate.test.gate";
        }

        @Override
        public ConfigType<TcpProxy> configType() {
            return ConfigType.proto(TcpProxy.getDefaultInstance());
        }

        @Override
        public NetworkFilterInstaller create(TcpProxy config, FactoryContext context) {
            return callbacks -> new NetworkFilter() {
                private boolean open;
                private boolean scheduled;

                @Override
                public FilterStatus onNewConnection() {
                    return FilterStatus.STOP_ITERATION;
                }

                @Override
                public FilterStatus onData(ByteBuf data, boolean endStream) {
                    if (open) {
                        return FilterStatus.CONTINUE;
                    }
                    EVENTS.add("held:" + data.readableBytes());
                    if (!scheduled) {
                        scheduled = true;
                        callbacks.connection().dispatcher().schedule(() -> {
                            open = true;
                            EVENTS.add("open");
                            callbacks.continueReading();
                        }, 100, TimeUnit.MILLISECONDS);
                    }
                    return FilterStatus.STOP_ITERATION;
                }
            };
        }
    }

    private Server server;

    @AfterEach
    void close() {
        if (server != null) {
            server.close();
        }
        EVENTS.clear();
    }

    private static String echoListener(String name, String extraFilters) {
        return """
                static_resources:
                  listeners:
                  - name: %s
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    per_connection_buffer_limit_bytes: 65536
                    filter_chains:
                    - filters:
                %s      - name: legate.test.echo
                        typed_config:
                          "@type": type.googleapis.com/xds.type.v3.TypedStruct
                          type_url: type.googleapis.com/legate.test.Echo
                          value: {prefix: "> "}
                """.formatted(name, extraFilters);
    }

    private static Server start(String yaml) {
        return Server.start(ServerOptions.builder().configYaml(yaml).concurrency(2)
                .extraFactory(new EchoNetworkFilterFactory()).extraFactory(new GreeterFactory()).build());
    }

    @Test
    void echoesBytesThroughTheTerminalFilterAndCountsConnections() throws Exception {
        server = start(echoListener("echo", ""));
        InetSocketAddress addr = server.listenerAddress("echo");
        String stat = "listener.127.0.0.1_" + addr.getPort() + ".";

        try (Socket s = connect(addr)) {
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream(), 7)).isEqualTo("> hello");
            s.getOutputStream().write("again".getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream(), 7)).isEqualTo("> again");
            assertThat(server.stats().counter(stat + "downstream_cx_total")).isEqualTo(1);
            assertThat(server.stats().gauge(stat + "downstream_cx_active")).isEqualTo(1);
        }

        await(() -> server.stats().gauge(stat + "downstream_cx_active") == 0);
        assertThat(server.stats().counter(stat + "downstream_cx_destroy")).isEqualTo(1);
        assertThat(server.listenerAddresses()).containsExactly(addr);
    }

    @Test
    void peerHalfCloseReachesTheFilterAsEndStreamAndTheFilterHalfClosesBack() throws Exception {
        server = start(echoListener("echo", ""));

        try (Socket s = connect(server.listenerAddress("echo"))) {
            s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            // the echo answers, then writes end_stream: we read the reply and then EOF
            assertThat(readToEof(s.getInputStream())).isEqualTo("> bye");
        }
    }

    @Test
    void filtersRunInOrderOnReadAndInReverseOnWrite() throws Exception {
        server = start(echoListener("echo", """
                      - name: legate.test.greeter
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: welcome
                """));

        try (Socket s = connect(server.listenerAddress("echo"))) {
            // the greeter's own write passes the write filters too (upper-cased)
            assertThat(read(s.getInputStream(), 8)).isEqualTo("WELCOME\n");
            s.getOutputStream().write("abc".getBytes(StandardCharsets.US_ASCII));
            // the echo's write passes the greeter's onWrite on its way out
            assertThat(read(s.getInputStream(), 5)).isEqualTo("> ABC");
        }
        assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("new:true");
        assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("event:REMOTE_CLOSE");
    }

    @Test
    void writeBufferWatermarksReachTheFilters() throws Exception {
        server = Server.start(ServerOptions.builder().concurrency(1).extraFactory(new FloodFactory()).configYaml("""
                static_resources:
                  listeners:
                  - name: flood
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    per_connection_buffer_limit_bytes: 32768
                    filter_chains:
                    - filters:
                      - name: legate.test.flood
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
                """).build());

        try (Socket s = new Socket()) {
            s.setReceiveBufferSize(4096);
            s.connect(server.listenerAddress("flood"), 5000);
            s.setSoTimeout(10000);
            s.getOutputStream().write('x');
            assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("above:false");
            assertThat(s.getInputStream().readNBytes(1024 * 16 * 1024)).hasSize(1024 * 16 * 1024);
            assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("below:true");
        }
    }

    @Test
    void aStoppedChainResumesWithTheBytesThatArrivedMeanwhile() throws Exception {
        server = Server.start(ServerOptions.builder().concurrency(1).extraFactory(new GateFactory())
                .extraFactory(new EchoNetworkFilterFactory()).configYaml(echoListener("gated", """
                      - name: legate.test.gate
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
                """)).build());

        try (Socket s = connect(server.listenerAddress("gated"))) {
            s.getOutputStream().write("abc".getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream(), 5)).isEqualTo("> abc");
            s.getOutputStream().write("de".getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream(), 4)).isEqualTo("> de");
        }
        assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("held:3");
        assertThat(EVENTS.poll(5, TimeUnit.SECONDS)).isEqualTo("open");
    }

    @Test
    void terminalFilterMustBeLast() {
        String yaml = """
                static_resources:
                  listeners:
                  - address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: legate.test.echo
                        typed_config:
                          "@type": type.googleapis.com/xds.type.v3.TypedStruct
                          type_url: type.googleapis.com/legate.test.Echo
                      - name: legate.test.greeter
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
                """;

        assertThatThrownBy(() -> start(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config-yaml: static_resources.listeners[0].filter_chains[0].filters[0]: terminal filter "
                        + "named legate.test.echo of type legate.test.echo must be the last filter in a network "
                        + "filter chain.");
    }

    @Test
    void lastFilterMustBeTerminal() {
        String yaml = """
                static_resources:
                  listeners:
                  - address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: legate.test.greeter
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
                """;

        assertThatThrownBy(() -> start(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config-yaml: static_resources.listeners[0].filter_chains[0].filters[0]: non-terminal "
                        + "filter named legate.test.greeter of type legate.test.greeter is the last filter in a "
                        + "network filter chain.");
    }

    @Test
    void unknownFilterNameFailsStartUp() {
        String yaml = echoListener("echo", "").replace("name: legate.test.echo", "name: legate.test.nope")
                .replace("legate.test.Echo", "legate.test.Nope");

        assertThatThrownBy(() -> start(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("--config-yaml: static_resources.listeners[0].filter_chains[0].filters[0]"
                        + ".name: no plugin provides network filter legate.test.nope (loaded: legate.test.echo, "
                        + "legate.test.greeter)");
    }

    @Test
    void anOlderFilterNameStillFindsTheFactoryByItsConfigType() throws Exception {
        server = start(echoListener("echo", "").replace("name: legate.test.echo", "name: legate.echo"));

        try (Socket s = connect(server.listenerAddress("echo"))) {
            s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
            assertThat(read(s.getInputStream(), 3)).isEqualTo("> x");
        }
    }

    @Test
    void recordConfigErrorsCarryThePathUnderValue() {
        String yaml = echoListener("echo", "").replace("value: {prefix: \"> \"}", "value: {prefix: \"> \", max_chunk: -1}");

        assertThatThrownBy(() -> Server.validate(ServerOptions.builder().configYaml(yaml)
                .extraFactory(new EchoNetworkFilterFactory()).build()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("--config-yaml: static_resources.listeners[0].filter_chains[0].filters[0].typed_config"
                        + ".value.max_chunk: -1 (expected: >= 0)");
    }

    @Test
    void bindFailureNamesListenerAndAddress() throws Exception {
        server = start(echoListener("first", ""));
        int port = server.listenerAddress("first").getPort();

        assertThatThrownBy(() -> start(echoListener("second", "").replace("port_value: 0", "port_value: " + port)))
                .isInstanceOf(ListenerBindException.class)
                .hasMessageStartingWith("listener second: cannot bind 127.0.0.1:" + port + ": ");
    }

    private static Socket connect(InetSocketAddress addr) throws IOException {
        Socket s = new Socket();
        s.connect(addr, 5000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String read(InputStream in, int n) throws IOException {
        byte[] buf = in.readNBytes(n);
        return new String(buf, StandardCharsets.US_ASCII);
    }

    private static String readToEof(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        for (int i = 0; i < 1000; i++) {
            int r = in.read(buf);
            if (r < 0) {
                return out.toString(StandardCharsets.US_ASCII);
            }
            out.write(buf, 0, r);
        }
        throw new AssertionError("no EOF");
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in 5 s");
            }
            Thread.sleep(10);
        }
    }

    @SuppressWarnings("unused")
    private static List<String> unused() {
        return List.of();
    }
}
