package dev.verge.hostos.sim;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.FlowFilter;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.NetEvents;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A conntrack table in memory. Tests (and the sim's packet paths) start, update and end flows;
 * subscribers get NEW, UPDATE and DESTROY events on a thread of their own, in order, as from the
 * kernel; deleting flows by filter announces their destruction.
 */
public final class SimConntrack implements Conntrack {
  private final Map<Long, FlowEvent.Flow> flows = new LinkedHashMap<>();
  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private long nextId = 1;

  private static final class Subscriber implements NetEvents.Subscription {
    private final Consumer<FlowEvent> listener;
    private final List<Subscriber> owner;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sim-conntrack-events");
      t.setDaemon(true);
      return t;
    });

    Subscriber(Consumer<FlowEvent> listener, List<Subscriber> owner) {
      this.listener = listener;
      this.owner = owner;
    }

    void deliver(FlowEvent event) {
      if (!thread.isShutdown()) {
        thread.execute(() -> listener.accept(event));
      }
    }

    @Override
    public void close() {
      owner.remove(this);
      thread.shutdown();
    }
  }

  @Override
  public NetEvents.Subscription subscribe(Consumer<FlowEvent> listener) {
    Subscriber subscriber = new Subscriber(listener, subscribers);
    subscribers.add(subscriber);
    return subscriber;
  }

  private void announce(FlowEvent event) {
    subscribers.forEach(s -> s.deliver(event));
  }

  /**
   * Starts tracking a flow (counters zero, no mark) and announces it NEW.
   *
   * @param sourcePort the source port, or the ICMP id
   */
  public synchronized FlowEvent.Flow track(
      int protocol, String source, int sourcePort, String destination, int destinationPort) {
    FlowEvent.Flow flow = new FlowEvent.Flow(FlowEvent.Kind.NEW, nextId++, protocol, IpPrefix.literal(source),
        IpPrefix.literal(destination), sourcePort, destinationPort, 0, 0, 0, 0, 0);
    flows.put(flow.id(), flow);
    announce(flow);
    return flow;
  }

  /** Changes a tracked flow (counters, mark; not its tuple or id) and announces the UPDATE. */
  public synchronized FlowEvent.Flow update(long id, UnaryOperator<FlowEvent.Flow> change) {
    FlowEvent.Flow old = flows.get(id);
    if (old == null) {
      throw new IllegalArgumentException("no tracked flow " + id);
    }
    FlowEvent.Flow changed = change.apply(old);
    FlowEvent.Flow updated = new FlowEvent.Flow(FlowEvent.Kind.UPDATE, id, old.protocol(), old.source(),
        old.destination(), old.sourcePort(), old.destinationPort(), changed.packetsOriginal(),
        changed.bytesOriginal(), changed.packetsReply(), changed.bytesReply(), changed.mark());
    flows.put(id, updated);
    announce(updated);
    return updated;
  }

  /** Ends a flow (it timed out or closed) and announces the DESTROY. */
  public synchronized void destroy(long id) {
    FlowEvent.Flow flow = flows.remove(id);
    if (flow == null) {
      throw new IllegalArgumentException("no tracked flow " + id);
    }
    announce(as(FlowEvent.Kind.DESTROY, flow));
  }

  /** Tells subscribers that events were lost, as a socket overflow would. */
  public void loseEvents() {
    announce(new FlowEvent.EventsLost());
  }

  /** The tracked flows, each with the kind {@link FlowEvent.Kind#UPDATE}, as the kernel's dump. */
  @Override
  public synchronized List<FlowEvent.Flow> dump() {
    return flows.values().stream().map(f -> as(FlowEvent.Kind.UPDATE, f)).toList();
  }

  @Override
  public synchronized int delete(FlowFilter filter) {
    List<FlowEvent.Flow> gone = new ArrayList<>();
    flows.values().removeIf(flow -> {
      if (filter.matches(flow)) {
        gone.add(flow);
        return true;
      }
      return false;
    });
    gone.forEach(flow -> announce(as(FlowEvent.Kind.DESTROY, flow)));
    return gone.size();
  }

  private static FlowEvent.Flow as(FlowEvent.Kind kind, FlowEvent.Flow flow) {
    return new FlowEvent.Flow(kind, flow.id(), flow.protocol(), flow.source(), flow.destination(),
        flow.sourcePort(), flow.destinationPort(), flow.packetsOriginal(), flow.bytesOriginal(),
        flow.packetsReply(), flow.bytesReply(), flow.mark());
  }

  @Override
  public void close() {
    subscribers.forEach(Subscriber::close);
  }
}
