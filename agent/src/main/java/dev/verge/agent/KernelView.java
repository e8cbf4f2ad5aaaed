package dev.verge.agent;

import dev.verge.hostos.Address;
import dev.verge.hostos.Link;
import dev.verge.hostos.Route;
import java.util.List;
import java.util.Optional;

/**
 * The kernel as it is at the moment of asking. Reads go to the host (netlink on Linux), not to a
 * cache fed by events: events only tell the runtime what to look at again, so an event that is
 * late never makes an item look gone or changed when it is not.
 */
public interface KernelView {
  List<Link> links();

  Optional<Link> link(String name);

  /** The addresses of a link; empty when the link does not exist. */
  List<Address> addresses(String link);

  List<Route> routes(int table);
}
