package dev.verge.agent.internal;

import dev.verge.agent.RuntimeSettings;
import dev.verge.pubsub.AgentLoop;
import dev.verge.reconciler.ItemRef;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Failed items and when to try them again: exponential back-off per item, forgotten as soon as
 * the item stops failing. EVE's reconciler never retries a failure on its own (only a config change
 * does); an edge box must recover from a transient refusal without an operator.
 */
public final class RetryBook {
  private static final class Entry {
    final long firstFailureMs;
    int attempts;
    Future<?> timer;

    Entry(long firstFailureMs) {
      this.firstFailureMs = firstFailureMs;
    }
  }

  private final AgentLoop loop;
  private final RuntimeSettings settings;
  private final Consumer<ItemRef> retry;
  private final Map<ItemRef, Entry> entries = new HashMap<>();

  public RetryBook(AgentLoop loop, RuntimeSettings settings, Consumer<ItemRef> retry) {
    this.loop = loop;
    this.settings = settings;
    this.retry = retry;
  }

  /** After a reconcile: the items failing now get a retry timer, the others are forgotten. */
  public void update(Set<ItemRef> failing) {
    for (Iterator<Map.Entry<ItemRef, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<ItemRef, Entry> e = it.next();
      if (!failing.contains(e.getKey())) {
        if (e.getValue().timer != null) {
          e.getValue().timer.cancel(false);
        }
        it.remove();
      }
    }
    for (ItemRef ref : failing) {
      Entry entry = entries.computeIfAbsent(ref, r -> new Entry(loop.now().toEpochMilli()));
      if (entry.timer == null || entry.timer.isDone()) {
        entry.attempts++;
        entry.timer = loop.schedule(settings.retryDelay(entry.attempts), () -> retry.accept(ref));
      }
    }
  }

  /** Tries made so far after the first failure. */
  public int attempts(ItemRef ref) {
    Entry entry = entries.get(ref);
    return entry == null ? 0 : entry.attempts - 1;
  }

  public long firstFailureMs(ItemRef ref) {
    Entry entry = entries.get(ref);
    return entry == null ? 0 : entry.firstFailureMs;
  }

  public void cancelAll() {
    entries.values().forEach(e -> {
      if (e.timer != null) {
        e.timer.cancel(false);
      }
    });
    entries.clear();
  }
}
