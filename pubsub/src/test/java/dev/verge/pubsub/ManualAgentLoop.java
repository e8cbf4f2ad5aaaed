package dev.verge.pubsub;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AgentLoop} on virtual time, driven by the test: tasks queue until the test calls
 * {@link #runPending()} or {@link #advance}, and timers fire only when virtual time passes their
 * due time, in due order. So an agent's timers (verification, probes, back-off) run in a unit test
 * deterministically and in no real time. Any thread may queue tasks (the in-JVM bus delivers from
 * the publisher's thread); only the thread that drives the loop runs them.
 */
public final class ManualAgentLoop implements AgentLoop {
  private static final Logger log = LoggerFactory.getLogger(ManualAgentLoop.class);
  /** Guards against a task that re-queues itself forever. */
  private static final int MAX_TASKS_PER_DRAIN = 1_000_000;

  private final String name;
  private final Instant wallAtZero;
  private final ArrayDeque<Runnable> ready = new ArrayDeque<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private long nowNanos;
  private long sequence;
  private volatile Thread runner;
  private boolean closed;

  public ManualAgentLoop(String name) {
    this(name, Instant.parse("2026-01-01T00:00:00Z"));
  }

  public ManualAgentLoop(String name, Instant wallAtZero) {
    this.name = name;
    this.wallAtZero = wallAtZero;
  }

  private final class Timer implements Comparable<Timer>, Future<Object> {
    final long seq = sequence++;
    final Runnable task;
    final long periodNanos; // 0: once
    long dueNanos;
    boolean cancelled;
    boolean done;

    Timer(long dueNanos, long periodNanos, Runnable task) {
      this.dueNanos = dueNanos;
      this.periodNanos = periodNanos;
      this.task = task;
    }

    @Override
    public int compareTo(Timer other) {
      int c = Long.compare(dueNanos, other.dueNanos);
      return c != 0 ? c : Long.compare(seq, other.seq);
    }

    @Override
    public boolean cancel(boolean mayInterrupt) {
      synchronized (ManualAgentLoop.this) {
        if (done || cancelled) {
          return false;
        }
        cancelled = true;
        timers.remove(this);
        return true;
      }
    }

    @Override
    public boolean isCancelled() {
      synchronized (ManualAgentLoop.this) {
        return cancelled;
      }
    }

    @Override
    public boolean isDone() {
      synchronized (ManualAgentLoop.this) {
        return done || cancelled;
      }
    }

    @Override
    public Object get() throws ExecutionException {
      throw new UnsupportedOperationException("a virtual-time timer cannot be waited for");
    }

    @Override
    public Object get(long timeout, TimeUnit unit) throws TimeoutException {
      throw new UnsupportedOperationException("a virtual-time timer cannot be waited for");
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public synchronized void execute(Runnable task) {
    if (!closed) {
      ready.add(task);
    }
  }

  @Override
  public synchronized Future<?> schedule(Duration delay, Runnable task) {
    Timer timer = new Timer(nowNanos + Math.max(0, delay.toNanos()), 0, task);
    if (!closed) {
      timers.add(timer);
    }
    return timer;
  }

  @Override
  public synchronized Future<?> every(Duration period, Runnable task) {
    long nanos = period.toNanos();
    if (nanos <= 0) {
      throw new IllegalArgumentException("period must be positive: " + period);
    }
    Timer timer = new Timer(nowNanos + nanos, nanos, task);
    if (!closed) {
      timers.add(timer);
    }
    return timer;
  }

  @Override
  public boolean inLoop() {
    return Thread.currentThread() == runner;
  }

  @Override
  public synchronized long nanoTime() {
    return nowNanos;
  }

  @Override
  public synchronized Instant now() {
    return wallAtZero.plusNanos(nowNanos);
  }

  /** Virtual time elapsed since the loop was made. */
  public synchronized Duration elapsed() {
    return Duration.ofNanos(nowNanos);
  }

  /** Runs the queued tasks, and those they queue, without moving time. @return tasks run */
  public int runPending() {
    int ran = 0;
    while (true) {
      Runnable next;
      synchronized (this) {
        next = closed ? null : ready.poll();
      }
      if (next == null) {
        return ran;
      }
      run(next);
      if (++ran > MAX_TASKS_PER_DRAIN) {
        throw new IllegalStateException("agent loop " + name + ": tasks keep queueing more tasks");
      }
    }
  }

  /**
   * Moves virtual time forward by {@code duration}, firing every timer that falls due on the way
   * at its due time (and running the tasks each one queues) before time moves on.
   */
  public void advance(Duration duration) {
    long target;
    synchronized (this) {
      target = nowNanos + duration.toNanos();
    }
    runPending();
    while (true) {
      Timer timer;
      synchronized (this) {
        timer = timers.peek();
        if (closed || timer == null || timer.dueNanos > target) {
          nowNanos = Math.max(nowNanos, target);
          break;
        }
        timers.poll();
        nowNanos = timer.dueNanos;
        if (timer.periodNanos > 0) {
          timer.dueNanos += timer.periodNanos;
          timers.add(timer);
        } else {
          timer.done = true;
        }
      }
      run(timer.task);
      runPending();
    }
  }

  /** Advances to the next timer's due time and fires it. @return false when no timer is set */
  public boolean fireNextTimer() {
    long due;
    synchronized (this) {
      Timer next = timers.peek();
      if (next == null) {
        return false;
      }
      due = next.dueNanos;
    }
    advance(Duration.ofNanos(due - nanoTime()));
    return true;
  }

  /** Timers set and not yet fired or cancelled. */
  public synchronized int pendingTimers() {
    return timers.size();
  }

  /** Tasks queued and not yet run. */
  public synchronized int pendingTasks() {
    return ready.size();
  }

  private void run(Runnable task) {
    Thread previous = runner;
    runner = Thread.currentThread();
    try {
      task.run();
    } catch (RuntimeException | Error e) {
      LoopFailures.report(log, "agent loop " + name + ": task", e);
    } finally {
      runner = previous;
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    ready.clear();
    timers.clear();
  }
}
