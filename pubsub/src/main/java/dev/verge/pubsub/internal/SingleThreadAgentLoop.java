package dev.verge.pubsub.internal;

import dev.verge.pubsub.AgentLoop;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link AgentLoop} on one daemon thread. */
public final class SingleThreadAgentLoop implements AgentLoop {
  private static final Logger log = LoggerFactory.getLogger(SingleThreadAgentLoop.class);

  private final String name;
  private final ScheduledThreadPoolExecutor executor;
  private volatile Thread thread;

  public SingleThreadAgentLoop(String name) {
    this.name = name;
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              var t = new Thread(r, "agent-" + name);
              t.setDaemon(true);
              thread = t;
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    executor.prestartCoreThread();
  }

  @Override
  public String name() {
    return name;
  }

  /** After {@link #close()} tasks are dropped: a closing agent must not fail its bus. */
  @Override
  public void execute(Runnable task) {
    try {
      executor.execute(guarded(task));
    } catch (RejectedExecutionException closed) {
      log.debug("agent loop {} is closed: task dropped", name);
    }
  }

  @Override
  public Future<?> schedule(Duration delay, Runnable task) {
    return executor.schedule(guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public Future<?> every(Duration period, Runnable task) {
    long nanos = period.toNanos();
    return executor.scheduleAtFixedRate(guarded(task), nanos, nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** A failing task must not stop the loop nor cancel a periodic timer. */
  private Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        log.error("agent loop {}: task failed", name, e);
      }
    };
  }
}
