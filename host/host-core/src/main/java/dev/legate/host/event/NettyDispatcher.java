package dev.legate.host.event;

import static java.util.Objects.requireNonNull;

import dev.legate.api.Dispatcher;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** {@link Dispatcher} over one Netty event loop. Cheap to create; equal loops mean the same dispatcher. */
public final class NettyDispatcher implements Dispatcher {

    private final EventLoop loop;

    public NettyDispatcher(EventLoop loop) {
        this.loop = requireNonNull(loop, "loop");
    }

    /** The Netty loop, for host code that registers channels on it. */
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    @Override
    public Timer schedule(Runnable task, long delay, TimeUnit unit) {
        ScheduledFuture<?> f = loop.schedule(task, delay, unit);
        return () -> f.cancel(false);
    }

    @Override
    public boolean inEventLoop() {
        return loop.inEventLoop();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NettyDispatcher d && d.loop == loop;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(loop);
    }
}
