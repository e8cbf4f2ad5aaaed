package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.testkit.UncaughtFailures;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AgentLoopTest {
  private final AgentLoop loop = AgentLoop.create("test");

  @AfterEach
  void close() {
    loop.close();
  }

  @Test
  void tasksRunInOrderOnTheLoopThread() throws InterruptedException {
    var threads = new CopyOnWriteArrayList<String>();
    var order = new CopyOnWriteArrayList<Integer>();
    var inLoop = new CopyOnWriteArrayList<Boolean>();
    var done = new CountDownLatch(100);
    for (int i = 0; i < 100; i++) {
      int n = i;
      loop.execute(
          () -> {
            threads.add(Thread.currentThread().getName());
            order.add(n);
            inLoop.add(loop.inLoop());
            done.countDown();
          });
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(order).isSorted().hasSize(100);
    assertThat(threads).containsOnly("agent-test");
    assertThat(inLoop).containsOnly(true);
    assertThat(loop.inLoop()).isFalse();
  }

  @Test
  void aFailingTaskDoesNotStopTheLoopNorItsTimers() throws InterruptedException {
    UncaughtFailures.expect("timer bug");
    UncaughtFailures.expect("task bug");
    var ticks = new CountDownLatch(3);
    loop.every(
        Duration.ofMillis(5),
        () -> {
          ticks.countDown();
          throw new IllegalStateException("timer bug");
        });
    var after = new CountDownLatch(1);
    loop.execute(
        () -> {
          throw new IllegalStateException("task bug");
        });
    loop.execute(after::countDown);

    assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ticks.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void closingDropsQueuedTasksAndRefusesNone() throws InterruptedException {
    var started = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    var ran = new CopyOnWriteArrayList<String>();
    var loopThread = new AtomicReference<Thread>();
    loop.execute(
        () -> {
          loopThread.set(Thread.currentThread());
          started.countDown();
          await(release);
        });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    loop.execute(() -> ran.add("queued before close"));
    loop.close();
    release.countDown();
    loop.execute(() -> ran.add("after close")); // dropped, not thrown

    // The barrier: the loop's thread has ended, so any task it was going to run has run.
    loopThread.get().join(10_000);
    assertThat(loopThread.get().isAlive()).as("the loop thread ends after close").isFalse();
    assertThat(ran).isEmpty();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void aCancelledTimerNeverRuns() throws InterruptedException {
    var ran = new CopyOnWriteArrayList<String>();
    var timer = loop.schedule(Duration.ofMillis(200), () -> ran.add("timer"));
    timer.cancel(false);
    var later = new CountDownLatch(1);
    loop.schedule(Duration.ofMillis(300), later::countDown);

    assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ran).isEqualTo(List.of());
  }
}
