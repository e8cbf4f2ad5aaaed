package dev.verge.agent.internal;

import dev.verge.hostos.NetEvent;
import dev.verge.pubsub.AgentLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Hands kernel events from the backend's thread to the agent's loop in batches: one loop task per
 * burst, however many events it holds.
 */
public final class KernelEventQueue {
  private final AgentLoop loop;
  /** Handles a batch; {@code receivedNanos} is when the backend handed over its first event. */
  public interface Handler {
    void handle(List<NetEvent> batch, long receivedNanos);
  }

  private final Handler handler;
  private final ConcurrentLinkedQueue<NetEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainQueued = new AtomicBoolean();
  private volatile long firstReceivedNanos;

  public KernelEventQueue(AgentLoop loop, Handler handler) {
    this.loop = loop;
    this.handler = handler;
  }

  /** From any thread. */
  public void offer(NetEvent event) {
    queue.add(event);
    if (drainQueued.compareAndSet(false, true)) {
      firstReceivedNanos = System.nanoTime();
      loop.execute(this::drain);
    }
  }

  private void drain() {
    long received = firstReceivedNanos;
    drainQueued.set(false); // before polling: an event offered from now on queues another drain
    List<NetEvent> batch = new ArrayList<>();
    for (NetEvent event; (event = queue.poll()) != null; ) {
      batch.add(event);
    }
    if (!batch.isEmpty()) {
      handler.handle(batch, received);
    }
  }
}
