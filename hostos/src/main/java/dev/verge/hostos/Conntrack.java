package dev.verge.hostos;

import java.util.List;
import java.util.function.Consumer;

/**
 * The connection tracking table of the host's namespace: events for flow logging, a dump, and
 * deletion of flows that match a filter (needed when an uplink changes, so NATed flows do not stay
 * pinned to the old one).
 */
public interface Conntrack extends AutoCloseable {
  /** Calls the listener, on one thread of the backend's, for every flow event from now on. */
  NetEvents.Subscription subscribe(Consumer<FlowEvent> listener);

  /** The flows tracked now. */
  List<FlowEvent.Flow> dump();

  /** Deletes the tracked flows that match. @return how many were deleted */
  int delete(FlowFilter filter);

  @Override
  void close();
}
