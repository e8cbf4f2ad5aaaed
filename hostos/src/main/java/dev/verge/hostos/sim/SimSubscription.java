package dev.verge.hostos.sim;

import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/** Delivers sim events on a thread of its own, in order, as the kernel's reader thread would. */
final class SimSubscription implements NetEvents.Subscription {
  private final Consumer<NetEvent> listener;
  private final Consumer<SimSubscription> onClose;
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "sim-events");
            t.setDaemon(true);
            return t;
          });

  SimSubscription(Consumer<NetEvent> listener, Consumer<SimSubscription> onClose) {
    this.listener = listener;
    this.onClose = onClose;
  }

  void deliver(List<NetEvent> events, boolean synchronous) {
    if (thread.isShutdown()) {
      return;
    }
    if (synchronous) {
      events.forEach(listener);
    } else {
      thread.execute(() -> events.forEach(listener));
    }
  }

  @Override
  public void close() {
    onClose.accept(this);
    thread.shutdown();
  }
}
