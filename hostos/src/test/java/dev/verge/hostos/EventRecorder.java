package dev.verge.hostos;

import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** Collects events from a subscription and waits for the one a test expects. */
public final class EventRecorder implements Consumer<NetEvent> {
  private static final Duration PATIENCE = Duration.ofSeconds(5);
  private final LinkedBlockingQueue<NetEvent> events = new LinkedBlockingQueue<>();
  private final List<NetEvent> seen = new ArrayList<>();

  @Override
  public void accept(NetEvent event) {
    events.add(event);
  }

  /** Waits for the first event (from those not yet consumed) that matches. */
  public <T extends NetEvent> T await(Class<T> type, Predicate<T> matching, String description) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      NetEvent event;
      try {
        event = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      if (event == null) {
        return fail("no event " + description + " within " + PATIENCE + "; saw " + seen);
      }
      seen.add(event);
      if (type.isInstance(event) && matching.test(type.cast(event))) {
        return type.cast(event);
      }
    }
  }

  /** The events consumed by the awaits so far, in order (those before a match included). */
  public List<NetEvent> seen() {
    return List.copyOf(seen);
  }

  public NetEvent.LinkEvent awaitLink(NetEvent.Change change, String name, Predicate<Link> state) {
    return await(
        NetEvent.LinkEvent.class,
        e -> e.change() == change && e.link().name().equals(name) && state.test(e.link()),
        change + " of link " + name);
  }
}
