package dev.verge.agent.internal;

import dev.verge.agent.KernelView;
import dev.verge.hostos.Address;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Link;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Route;
import java.util.List;
import java.util.Optional;

/** Reads straight from the host's network stack: never stale, whatever the events lag. */
public final class LiveKernelView implements KernelView {
  private final NetworkStack network;

  public LiveKernelView(NetworkStack network) {
    this.network = network;
  }

  @Override
  public List<Link> links() {
    return network.links();
  }

  @Override
  public Optional<Link> link(String name) {
    return network.link(name);
  }

  @Override
  public List<Address> addresses(String link) {
    try {
      return network.addresses(link);
    } catch (HostException e) {
      if (e.errno() == Errno.ENODEV) {
        return List.of(); // the link is gone, and its addresses with it
      }
      throw e;
    }
  }

  @Override
  public List<Route> routes(int table) {
    return network.routes(table);
  }
}
