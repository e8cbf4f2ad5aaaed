package dev.verge.hostos.sim;

import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.internal.ListenerFailures;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers sim events to one listener, in order: on a thread of its own, as the kernel's reader
 * thread would, or on the changing thread itself when the kernel delivers synchronously.
 */
final class SimSubscription implements NetEvents.Subscription {
  private static final Logger LOG = LoggerFactory.getLogger(SimSubscription.class);

  private final Consumer<NetEvent> listener;
  private final Consumer<SimSubscription> onClose;
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "sim-events");
            t.setDaemon(true);
            return t;
          });
  private volatile boolean closed;

  SimSubscription(Consumer<NetEvent> listener, Consumer<SimSubscription> onClose) {
    this.listener = listener;
    this.onClose = onClose;
  }

  void deliver(List<NetEvent> events, boolean synchronously) {
    if (closed || events.isEmpty()) {
      return;
    }
    if (synchronously) {
      hand(events);
    } else if (!thread.isShutdown()) {
      thread.execute(() -> hand(events));
    }
  }

  private void hand(List<NetEvent> events) {
    for (NetEvent event : events) {
      if (closed) {
        return;
      }
      try {
        listener.accept(event);
      } catch (RuntimeException | AssertionError e) {
        ListenerFailures.report(LOG, "sim event listener on " + event, e);
      }
    }
  }

  /** Returns once every event handed to the delivery thread so far has been delivered. */
  void awaitDelivered() {
    if (thread.isShutdown()) {
      return;
    }
    Future<?> marker;
    try {
      marker = thread.submit(() -> {});
    } catch (java.util.concurrent.RejectedExecutionException closedMeanwhile) {
      return;
    }
    try {
      marker.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {
    closed = true;
    onClose.accept(this);
    thread.shutdown();
  }
}
