package dev.verge.zedrouter;

import static dev.verge.agent.LeftoverAdopter.ignoringGone;

import dev.verge.agent.LeftoverAdopter;
import dev.verge.hostos.Address;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetworkStack;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import java.util.Optional;

/**
 * An NI's bridge. A bridge the previous run left (a restart, a crash) is adopted and reset rather
 * than replaced: the kernel's removal of a bridge costs ~40 ms of RCU grace periods, which with ten
 * NIs was most of a restarted node's first reconcile; the reset costs a few netlink calls.
 */
final class BridgeConfigurator implements Configurator, LeftoverAdopter {
  private final NetworkStack net;

  BridgeConfigurator(NetworkStack net) {
    this.net = net;
  }

  @Override
  public void create(OpContext ctx, Item item) {
    var bridge = (Items.Bridge) item;
    net.createLink(bridge.name(), new LinkSpec.Bridge(false));
    apply(bridge);
  }

  @Override
  public void modify(OpContext ctx, Item oldItem, Item newItem) {
    apply((Items.Bridge) newItem);
  }

  @Override
  public void delete(OpContext ctx, Item item) {
    net.deleteLink(item.name());
  }

  /**
   * What a new bridge would be: no ports, no addresses, no routes through it, no VLAN filtering;
   * the items that hang on the bridge are then created on it as on a new one. Going down first
   * makes the kernel drop the IPv4 routes and neighbours through it, and the IPv6 addresses.
   */
  @Override
  public boolean adoptLeftover(OpContext ctx, Item item) {
    var bridge = (Items.Bridge) item;
    Optional<Link> found = net.link(bridge.name());
    if (found.isEmpty() || !found.get().kind().equals("bridge")) {
      return false;
    }
    int index = found.get().index();
    net.setUp(bridge.name(), false);
    for (Link port : net.links()) {
      if (port.masterIndex() == index) {
        // a restarted domainmgr deletes the taps it left at the same time: gone is detached too
        ignoringGone(() -> net.clearMaster(port.name()));
      }
    }
    for (Address address : net.addresses(bridge.name())) {
      ignoringGone(() -> net.deleteAddress(bridge.name(), address.prefix()));
    }
    if (net.vlanFiltering(bridge.name())) {
      net.setVlanFiltering(bridge.name(), false);
    }
    apply(bridge);
    return true;
  }

  private void apply(Items.Bridge bridge) {
    net.setMac(bridge.name(), bridge.mac());
    net.setMtu(bridge.name(), bridge.mtu());
    net.setUp(bridge.name(), true);
  }
}
