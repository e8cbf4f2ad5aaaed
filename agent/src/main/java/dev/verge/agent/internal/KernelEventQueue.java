package dev.verge.agent.internal;

import dev.verge.hostos.NetEvent;
import dev.verge.pubsub.AgentLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Hands kernel events from the backend's thread to the agent's loop in batches: one loop task per
 * burst, however many events it holds.
 */
public final class KernelEventQueue {
  private final AgentLoop loop;
  private final Consumer<List<NetEvent>> handler;
  private final ConcurrentLinkedQueue<NetEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainQueued = new AtomicBoolean();

  public KernelEventQueue(AgentLoop loop, Consumer<List<NetEvent>> handler) {
    this.loop = loop;
    this.handler = handler;
  }

  /** From any thread. */
  public void offer(NetEvent event) {
    queue.add(event);
    if (drainQueued.compareAndSet(false, true)) {
      loop.execute(this::drain);
    }
  }

  private void drain() {
    drainQueued.set(false); // before polling: an event offered from now on queues another drain
    List<NetEvent> batch = new ArrayList<>();
    for (NetEvent event; (event = queue.poll()) != null; ) {
      batch.add(event);
    }
    if (!batch.isEmpty()) {
      handler.accept(batch);
    }
  }
}
