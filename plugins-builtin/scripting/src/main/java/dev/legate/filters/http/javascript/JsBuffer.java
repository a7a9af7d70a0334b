package dev.legate.filters.http.javascript;

import dev.legate.filters.http.scripting.ScriptUsageException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import org.graalvm.polyglot.HostAccess;

/**
 * The body object of the JavaScript handle (what {@code await handle.body()} gives), Envoy's Lua buffer with
 * JavaScript call syntax: {@code length()}, {@code getBytes(index, length)}, {@code setBytes(string)}. Strings are
 * UTF-8 on the wire. It reads the body the host buffered for the stream; valid while its call runs; confined to the
 * stream's event loop.
 */
public final class JsBuffer {

    private final JsInvocation call;

    JsBuffer(JsInvocation call) {
        this.call = call;
    }

    private ByteBuf buf() {
        if (!call.active()) {
            throw new ScriptUsageException("the handle is no longer valid: its script call ended");
        }
        return call.stream.body(call.direction);
    }

    /** The body's length in bytes. */
    @HostAccess.Export
    public int length() {
        ByteBuf b = buf();
        return b == null ? 0 : b.readableBytes();
    }

    /**
     * {@code length} bytes from {@code index} (0-based), decoded as UTF-8.
     *
     * @throws ScriptUsageException when the range is outside the body
     */
    @HostAccess.Export
    public String getBytes(int index, int length) {
        ByteBuf b = buf();
        int size = b == null ? 0 : b.readableBytes();
        if (index < 0 || length < 0 || index + length > size) {
            throw new ScriptUsageException("index/length out of range: " + index + "/" + length + " (body length "
                    + size + ")");
        }
        return length == 0 ? "" : b.toString(b.readerIndex() + index, length, StandardCharsets.UTF_8);
    }

    /** The whole body decoded as UTF-8 (a shorthand for {@code getBytes(0, length())}). */
    @HostAccess.Export
    public String text() {
        ByteBuf b = buf();
        return b == null ? "" : b.toString(StandardCharsets.UTF_8);
    }

    /** Replaces the body with {@code text} (UTF-8); with the headers still held, sets {@code content-length}. */
    @HostAccess.Export
    public void setBytes(String text) {
        buf();
        call.stream.setBody(call.direction, text.getBytes(StandardCharsets.UTF_8));
    }
}
