package dev.verge.pubsub.internal;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Looks at the running handler calls of a bus a few times per threshold, so a handler that is
 * stuck is reported while it is stuck, not only once it returns (if ever).
 */
final class HandlerWatchdog implements AutoCloseable {
  private final Set<SubscriberCore<?>> watched = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;

  HandlerWatchdog(Duration threshold) {
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "verge-bus-watchdog");
              t.setDaemon(true);
              return t;
            });
    long period = Math.max(threshold.toNanos() / 4, TimeUnit.MILLISECONDS.toNanos(5));
    timer.scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
  }

  void watch(SubscriberCore<?> core) {
    watched.add(core);
  }

  void unwatch(SubscriberCore<?> core) {
    watched.remove(core);
  }

  private void check() {
    long now = System.nanoTime();
    for (var core : watched) {
      core.reportIfStuck(now);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
