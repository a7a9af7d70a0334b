package dev.legate.host.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.legate.api.http.FilterDataStatus;
import dev.legate.api.http.FilterHeadersStatus;
import dev.legate.api.http.HeaderMap;
import dev.legate.api.http.HttpFilter;
import dev.legate.api.http.HttpFilterCallbacks;
import dev.legate.api.http.HttpFilterChainEntry;
import dev.legate.api.network.WatermarkCallbacks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Filter-manager rules with purpose-built chains: added data, encoder buffering, watermarks, route cache. */
class FilterManagerTest {

    private final TestHttpConfig cfg = new TestHttpConfig();
    private TrackingAllocator alloc;
    private EmbeddedChannel ch;
    private TestDownstreamConnection conn;

    private void start(int bufferLimit, HttpFilterChainEntry... chain) {
        cfg.chain = List.of(chain);
        alloc = new TrackingAllocator();
        ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        ch.freezeTime();
        conn = new TestDownstreamConnection(ch, bufferLimit);
        new HttpConnectionServiceImpl().connectionManager(cfg).install(conn);
    }

    @AfterEach
    void tearDown() {
        ch.runPendingTasks();
        ch.finishAndReleaseAll();
        ch.runPendingTasks();
        assertThat(alloc.unreleased()).as("unreleased buffers").isEmpty();
        assertThat(cfg.gauge("downstream_rq_active")).isZero();
    }

    private void send(String s) {
        ByteBuf b = alloc.buffer();
        b.writeCharSequence(s, UTF_8);
        ch.writeInbound(b);
        ch.runPendingTasks();
    }

    private FullHttpResponse response() {
        ch.runPendingTasks();
        EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            client.writeInbound(o);
        }
        FullHttpResponse r = client.readInbound();
        client.finishAndReleaseAll();
        return r;
    }

    private static HttpFilterChainEntry entry(String name, dev.legate.api.http.HttpFilterInstaller i) {
        return new HttpFilterChainEntry(name, i, false);
    }

    private static HttpFilterChainEntry echo() {
        return new HttpFilterChainEntry("test.echo", TestFilters.EchoFilter::new, true);
    }

    @Test
    void dataAddedInDecodeHeadersTurnsAHeadersOnlyRequestIntoABody() {
        start(1 << 20, entry("add", cb -> new HttpFilter() {
            @Override
            public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
                if (endStream) {
                    cb.addDecodedData(ByteBufUtil.writeUtf8(ch.alloc(), "added"));
                }
                return FilterHeadersStatus.CONTINUE;
            }

            @Override
            public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
                if (endStream) {
                    cb.addEncodedData(ByteBufUtil.writeUtf8(ch.alloc(), "!"));
                }
                return FilterDataStatus.CONTINUE;
            }
        }), echo());
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        FullHttpResponse r = response();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.content().toString(UTF_8)).isEqualTo("added!");
        r.release();
    }

    @Test
    void encoderBufferOverTheLimitWithHeldHeadersGets500() {
        start(8, entry("hold", cb -> new HttpFilter() {
            @Override
            public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
                return FilterHeadersStatus.STOP_ITERATION;
            }

            @Override
            public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
                return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
            }
        }), echo());
        send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\n" + "y".repeat(20));
        FullHttpResponse r = response();
        assertThat(r.status().code()).isEqualTo(500);
        assertThat(r.content().toString(UTF_8)).isEqualTo("Internal Server Error");
        assertThat(cfg.counter("rs_too_large")).isEqualTo(1);
        assertThat(cfg.completed.get(0).details()).isEqualTo("response_payload_too_large");
        r.release();
    }

    @Test
    void encoderFilterBuffersTheWholeResponseAndContinues() {
        start(1 << 20, entry("hold", cb -> new HttpFilter() {
            @Override
            public FilterHeadersStatus encodeHeaders(HeaderMap headers, boolean endStream) {
                return endStream ? FilterHeadersStatus.CONTINUE : FilterHeadersStatus.STOP_ITERATION;
            }

            @Override
            public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
                if (!endStream) {
                    return FilterDataStatus.STOP_ITERATION_AND_BUFFER;
                }
                cb.encodingBuffer().writeBytes(data); // read the whole body at once: buffered + last chunk
                data.skipBytes(data.readableBytes());
                ByteBuf all = cb.encodingBuffer();
                cb.streamInfo().setState(dev.legate.api.StateKey.of("t.len", Integer.class), all.readableBytes());
                return FilterDataStatus.CONTINUE;
            }
        }), echo());
        send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        send("3\r\ndef\r\n0\r\n\r\n");
        FullHttpResponse r = response();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.content().toString(UTF_8)).isEqualTo("abcdef");
        r.release();
    }

    @Test
    void decoderWatermarksDisableAndEnableReadingCounted() {
        List<HttpFilterCallbacks> cbs = new ArrayList<>();
        start(1 << 20, entry("flow", cb -> {
            cbs.add(cb);
            return new HttpFilter() { };
        }), new HttpFilterChainEntry("wait", TestFilters.EchoFilter::new, true));
        send("POST /wait HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab");
        HttpFilterCallbacks cb = cbs.get(0);
        cb.onDecoderFilterAboveWriteBufferHighWatermark();
        cb.onDecoderFilterAboveWriteBufferHighWatermark();
        assertThat(ch.config().isAutoRead()).isFalse();
        cb.onDecoderFilterBelowWriteBufferLowWatermark();
        assertThat(ch.config().isAutoRead()).isFalse();
        cb.onDecoderFilterBelowWriteBufferLowWatermark();
        assertThat(ch.config().isAutoRead()).isTrue();
        assertThat(cfg.counter("downstream_flow_control_paused_reading_total")).isEqualTo(2);

        cb.onDecoderFilterAboveWriteBufferHighWatermark();
        cb.sendLocalReply(503, "", null, "test");
        assertThat(ch.config().isAutoRead()).as("stream end undoes its read-disables").isTrue();
        assertThat(conn.readDisabled).isZero();
        response().release();
    }

    @Test
    void downstreamWatermarkCallbacksFollowChannelWritability() {
        List<String> events = new ArrayList<>();
        WatermarkCallbacks recorder = new WatermarkCallbacks() {
            @Override
            public void onAboveWriteBufferHighWatermark() {
                events.add("above");
            }

            @Override
            public void onBelowWriteBufferLowWatermark() {
                events.add("below");
            }
        };
        start(1 << 20, entry("flow", cb -> {
            cb.addDownstreamWatermarkCallbacks(recorder);
            return new HttpFilter() { };
        }), new HttpFilterChainEntry("wait", TestFilters.EchoFilter::new, true));
        send("GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        ch.runPendingTasks();
        ch.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        ch.runPendingTasks();
        assertThat(events).containsExactly("above", "below");
    }

    @Test
    void injectedEncodedDataPassesTheLaterEncoderFiltersAndEndsTheResponse() {
        List<String> seenByLater = new ArrayList<>();
        List<HttpFilterCallbacks> pacer = new ArrayList<>();
        List<ByteBuf> held = new ArrayList<>();
        List<String> watermarks = new ArrayList<>();
        start(1 << 20, entry("upper", cb -> new HttpFilter() {
            @Override
            public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
                seenByLater.add(data.toString(UTF_8) + ":" + endStream);
                for (int i = data.readerIndex(); i < data.writerIndex(); i++) {
                    data.setByte(i, Character.toUpperCase(data.getByte(i)));
                }
                return FilterDataStatus.CONTINUE;
            }
        }), entry("pacer", cb -> {
            pacer.add(cb);
            cb.addDownstreamWatermarkCallbacks(new WatermarkCallbacks() {
                @Override
                public void onAboveWriteBufferHighWatermark() {
                    watermarks.add("above");
                }

                @Override
                public void onBelowWriteBufferLowWatermark() {
                    watermarks.add("below");
                }
            });
            return new HttpFilter() {
                @Override
                public FilterDataStatus encodeData(ByteBuf data, boolean endStream) {
                    held.add(data.retainedSlice());
                    return FilterDataStatus.STOP_ITERATION_NO_BUFFER;
                }
            };
        }), echo());
        send("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabcdef");
        assertThat(seenByLater).isEmpty();
        HttpFilterCallbacks cb = pacer.get(0);
        cb.onEncoderFilterAboveWriteBufferHighWatermark();
        cb.onEncoderFilterBelowWriteBufferLowWatermark();
        assertThat(watermarks).containsExactly("above", "below");
        ByteBuf body = held.get(0);
        cb.injectEncodedDataToFilterChain(body.readRetainedSlice(3), false);
        assertThat(cfg.gauge("downstream_rq_active")).as("not ended by a slice without end_stream").isEqualTo(1);
        cb.injectEncodedDataToFilterChain(body.readRetainedSlice(3), true);
        body.release();
        assertThat(seenByLater).containsExactly("abc:false", "def:true");
        FullHttpResponse r = response();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.content().toString(UTF_8)).isEqualTo("ABCDEF");
        r.release();
        assertThat(cfg.gauge("downstream_rq_active")).isZero();
    }

    @Test
    void routeIsLookedUpOnceAndAgainAfterClearRouteCache() {
        int[] seen = new int[2];
        start(1 << 20, entry("route", cb -> new HttpFilter() {
            @Override
            public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
                cb.route();
                cb.route();
                seen[0] = cfg.routeLookups;
                cb.clearRouteCache();
                cb.route();
                seen[1] = cfg.routeLookups;
                return FilterHeadersStatus.CONTINUE;
            }
        }), echo());
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        response().release();
        assertThat(seen).containsExactly(1, 2);
    }

    @Test
    void stopAllTimerIsCancelledWhenTheStreamEndsEarly() {
        start(1 << 20, new HttpFilterChainEntry("test.pause", TestFilters.PauseFilter::new, false), echo());
        send("GET / HTTP/1.1\r\nHost: h\r\nx-pause: 1\r\n\r\n");
        ch.close();
        ch.advanceTimeBy(100, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertThat(cfg.completed).singleElement().satisfies(c -> assertThat(c.flags()).isEqualTo("DC"));
    }

    @Test
    void responseTrailersAreDroppedOnHttp1() {
        start(1 << 20, new HttpFilterChainEntry("trailers", cb -> new HttpFilter() {
            @Override
            public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
                HeaderMap h = cb.newHeaderMap();
                h.set(HeaderMap.STATUS, "200");
                cb.encodeHeaders(h, false);
                cb.encodeData(ByteBufUtil.writeUtf8(ch.alloc(), "body"), false);
                HeaderMap t = cb.newHeaderMap();
                t.set("grpc-status", "0");
                cb.encodeTrailers(t);
                return FilterHeadersStatus.STOP_ITERATION;
            }
        }, true));
        send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        ch.runPendingTasks();
        StringBuilder raw = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            raw.append(b.toString(UTF_8));
            b.release();
        }
        assertThat(raw.toString()).contains("transfer-encoding: chunked").endsWith("4\r\nbody\r\n0\r\n\r\n")
                .doesNotContain("grpc-status");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void idleTimeoutAfterTheResponseStartedResetsTheConnection() {
        cfg.streamIdleTimeoutMillis = 1000;
        start(1 << 20, echo());
        send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01");
        ch.runPendingTasks();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ((ByteBuf) o).release();
        }
        ch.advanceTimeBy(1000, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(cfg.counter("downstream_rq_idle_timeout")).isEqualTo(1);
        assertThat(cfg.counter("downstream_rq_tx_reset")).isEqualTo(1);
        assertThat(cfg.completed).singleElement().satisfies(c -> {
            assertThat(c.status()).isEqualTo(200);
            assertThat(c.flags()).contains("SI").contains("LR");
        });
    }

    @Test
    void watermarkBufferingPastTheLimitPausesReadingInsteadOf413() {
        List<HttpFilterCallbacks> cbs = new ArrayList<>();
        start(8, entry("wm", cb -> {
            cbs.add(cb);
            return new HttpFilter() {
                @Override
                public FilterHeadersStatus decodeHeaders(HeaderMap headers, boolean endStream) {
                    return FilterHeadersStatus.STOP_ALL_ITERATION_AND_WATERMARK;
                }
            };
        }), echo());
        send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n0123456789");
        assertThat(ch.config().isAutoRead()).as("above the limit: reading paused").isFalse();
        assertThat(cbs.get(0).decodingBuffer().readableBytes()).isEqualTo(10);
        cbs.get(0).continueDecoding();
        assertThat(ch.config().isAutoRead()).isTrue();
        send("ab");
        FullHttpResponse r = response();
        assertThat(r.status().code()).isEqualTo(200);
        assertThat(r.content().toString(UTF_8)).isEqualTo("0123456789ab");
        r.release();
    }
}
