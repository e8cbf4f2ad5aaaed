package dev.verge.hostos.sim;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.FlowFilter;
import dev.verge.hostos.NetEvents;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** PLACEHOLDER: helper H2 replaces this with a sim conntrack (inject flows, events, delete). */
public final class SimConntrack implements Conntrack {
  private final List<FlowEvent.Flow> flows = new ArrayList<>();

  @Override
  public NetEvents.Subscription subscribe(Consumer<FlowEvent> listener) {
    return () -> {};
  }

  @Override
  public synchronized List<FlowEvent.Flow> dump() {
    return List.copyOf(flows);
  }

  @Override
  public synchronized int delete(FlowFilter filter) {
    int before = flows.size();
    flows.removeIf(filter::matches);
    return before - flows.size();
  }

  @Override
  public void close() {}
}
