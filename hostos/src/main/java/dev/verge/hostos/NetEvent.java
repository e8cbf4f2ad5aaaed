package dev.verge.hostos;

import java.util.List;

/** A change the kernel announced, or a full state after events were lost. */
public sealed interface NetEvent {
  enum Change {
    /** Added or changed (the kernel does not tell the two apart). */
    NEW,
    DELETED
  }

  record LinkEvent(Change change, Link link) implements NetEvent {}

  record AddressEvent(Change change, Address address) implements NetEvent {}

  record RouteEvent(Change change, Route route) implements NetEvent {}

  /**
   * Events were lost (the socket overflowed): here is the whole current state instead, so a
   * listener can replace what it knew rather than patch it.
   */
  record Resynced(List<Link> links, List<Address> addresses, List<Route> routes)
      implements NetEvent {
    public Resynced {
      links = List.copyOf(links);
      addresses = List.copyOf(addresses);
      routes = List.copyOf(routes);
    }
  }
}
