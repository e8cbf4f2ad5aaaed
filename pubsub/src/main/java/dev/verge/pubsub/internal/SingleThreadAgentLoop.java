package dev.verge.pubsub.internal;

import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.LoopFailures;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AgentLoop} on one daemon thread, which is a Netty event loop: the socket driver serves an
 * agent's bus connections on it, so a frame read from a socket reaches its handler without
 * waking another thread.
 */
public final class SingleThreadAgentLoop implements AgentLoop {
  private static final Logger log = LoggerFactory.getLogger(SingleThreadAgentLoop.class);

  private final String name;
  private final EventLoopGroup group;
  private final EventLoop eventLoop;
  private final boolean epoll;
  private volatile boolean closed;

  public SingleThreadAgentLoop(String name) {
    this.name = name;
    ThreadFactory threads =
        r -> {
          var t = new FastThreadLocalThread(r, "agent-" + name);
          t.setDaemon(true);
          return t;
        };
    this.epoll = Epoll.isAvailable();
    this.group = epoll ? new EpollEventLoopGroup(1, threads) : new NioEventLoopGroup(1, threads);
    this.eventLoop = group.next();
    eventLoop.execute(() -> {}); // start the thread now, as the agent expects
  }

  @Override
  public String name() {
    return name;
  }

  /** The loop's Netty event loop, when it can serve the epoll socket channels of the bus. */
  EventLoop epollEventLoop() {
    return epoll ? eventLoop : null;
  }

  /** After {@link #close()} tasks are dropped: a closing agent must not fail its bus. */
  @Override
  public void execute(Runnable task) {
    try {
      eventLoop.execute(guarded(task));
    } catch (RejectedExecutionException rejected) {
      log.debug("agent loop {} is closed: task dropped", name);
    }
  }

  @Override
  public Future<?> schedule(Duration delay, Runnable task) {
    return eventLoop.schedule(guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public Future<?> every(Duration period, Runnable task) {
    long nanos = period.toNanos();
    return eventLoop.scheduleAtFixedRate(guarded(task), nanos, nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public boolean inLoop() {
    return eventLoop.inEventLoop();
  }

  /**
   * Stops the loop. From another thread, returns once the loop thread has ended (at most a few
   * seconds), so that no task of this loop — a timer tick already under way, say — still runs or
   * fails after its owner has closed it.
   */
  @Override
  public void close() {
    closed = true;
    var terminated = group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    if (!eventLoop.inEventLoop() && !terminated.awaitUninterruptibly(5, TimeUnit.SECONDS)) {
      log.warn("agent loop {}: still running 5 s after close", name);
    }
  }

  /**
   * A failing task must not stop the loop nor cancel a periodic timer; a task queued before
   * {@link #close()} is dropped.
   */
  private Runnable guarded(Runnable task) {
    return () -> {
      if (closed) {
        return;
      }
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        LoopFailures.report(log, "agent loop " + name + ": task", e);
      }
    };
  }
}
