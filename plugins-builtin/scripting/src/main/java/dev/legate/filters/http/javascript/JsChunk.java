package dev.legate.filters.http.javascript;

import dev.legate.filters.http.scripting.ScriptUsageException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import org.graalvm.polyglot.HostAccess;

/**
 * One body chunk of {@code for await (const chunk of handle.bodyChunks())}: {@code length()},
 * {@code getBytes(index, length)}, {@code text()}, {@code setBytes(string)} (replaces the chunk as it passes on).
 * Valid until the loop asks for the next chunk; confined to the stream's event loop.
 */
public final class JsChunk {

    private final JsInvocation call;
    private final ByteBuf chunk;

    JsChunk(JsInvocation call) {
        this.call = call;
        this.chunk = call.stream.currentChunk(call.direction);
    }

    private ByteBuf buf() {
        if (!call.active() || call.stream.currentChunk(call.direction) != chunk) {
            throw new ScriptUsageException("body chunk is no longer valid");
        }
        return chunk;
    }

    /** The chunk's length in bytes. */
    @HostAccess.Export
    public int length() {
        return buf().readableBytes();
    }

    /** {@code length} bytes from {@code index}, decoded as UTF-8. */
    @HostAccess.Export
    public String getBytes(int index, int length) {
        ByteBuf b = buf();
        if (index < 0 || length < 0 || index + length > b.readableBytes()) {
            throw new ScriptUsageException("index/length out of range: " + index + "/" + length + " (chunk length "
                    + b.readableBytes() + ")");
        }
        return b.toString(b.readerIndex() + index, length, StandardCharsets.UTF_8);
    }

    /** The whole chunk decoded as UTF-8. */
    @HostAccess.Export
    public String text() {
        return buf().toString(StandardCharsets.UTF_8);
    }

    /** Replaces the chunk's bytes as it passes on. */
    @HostAccess.Export
    public void setBytes(String text) {
        buf();
        call.stream.setChunk(call.direction, text.getBytes(StandardCharsets.UTF_8));
    }
}
