package dev.verge.pubsub;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A positive barrier on an agent loop, for "nothing happened" checks: instead of sleeping and
 * hoping the unwanted event would have come by then, wait until the loop has run what was queued.
 * A handler call queued before the barrier has run when it returns.
 */
public final class LoopBarrier {
  private LoopBarrier() {}

  /**
   * Waits until {@code loop} has run every task queued before this call, then (repeated {@code
   * rounds} times) every task those queued in turn: a task that queues follow-up work (a socket
   * registration queues its dial) is covered with two rounds.
   *
   * @throws AssertionError when the loop did not get there within {@code timeout} (it is stuck)
   */
  public static void await(AgentLoop loop, int rounds, Duration timeout) throws InterruptedException {
    for (int i = 0; i < rounds; i++) {
      CountDownLatch reached = new CountDownLatch(1);
      loop.execute(reached::countDown);
      if (!reached.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError("agent loop " + loop.name() + " did not reach the barrier within " + timeout);
      }
    }
  }

  /** {@link #await(AgentLoop, int, Duration)} with one round. */
  public static void await(AgentLoop loop, Duration timeout) throws InterruptedException {
    await(loop, 1, timeout);
  }
}
