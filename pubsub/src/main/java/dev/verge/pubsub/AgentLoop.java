package dev.verge.pubsub;

import dev.verge.pubsub.internal.SingleThreadAgentLoop;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;

/**
 * The single thread an agent lives on: bus handlers, timers and tasks all run here, one at a
 * time, so agent state needs no locks. A task that throws is reported ({@link LoopFailures}) and
 * the loop goes on.
 */
public interface AgentLoop extends Executor, AutoCloseable {

  /** A loop on a new daemon thread named {@code agent-<name>}. */
  static AgentLoop create(String name) {
    return new SingleThreadAgentLoop(name);
  }

  String name();

  /** Runs the task on the loop thread, after the tasks already queued. */
  @Override
  void execute(Runnable task);

  /** Runs the task once after the delay; cancel it through the returned future. */
  Future<?> schedule(Duration delay, Runnable task);

  /** Runs the task repeatedly, {@code period} apart (first run after one period). */
  Future<?> every(Duration period, Runnable task);

  /** True when called from the loop thread. */
  boolean inLoop();

  /**
   * Monotonic time in nanoseconds, for durations and deadlines (a wall clock steps when NTP first
   * syncs on an edge box). Agents read time here, never from {@link System}, so a test loop can
   * run their timers on virtual time.
   */
  default long nanoTime() {
    return System.nanoTime();
  }

  /** Wall-clock time, for timestamps people read (status, logs); virtual on a test loop. */
  default Instant now() {
    return Instant.now();
  }

  /** Stops the loop; queued tasks are dropped. */
  @Override
  void close();
}
