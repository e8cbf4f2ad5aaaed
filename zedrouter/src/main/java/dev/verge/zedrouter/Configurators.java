package dev.verge.zedrouter;

import dev.verge.agent.AgentContext;
import dev.verge.hostos.Errno;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.nft.NftBatch;
import dev.verge.hostos.nft.NftCommand;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.RecreatedConfigurator;

/** How each item type is made real on the host. */
final class Configurators {
  private Configurators() {}

  /** @param dnsmasqOutput each line an NI's dnsmasq writes, with the NI's bridge (on the loop) */
  static void register(AgentContext context, MetadataServers metadataServers, VpnTunnels tunnels,
      java.util.function.BiConsumer<String, String> dnsmasqOutput) {
    Host host = context.host();
    context.configure(Items.Charon.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var spec = ((Items.Charon) item).spec();
        dev.verge.hostos.vici.Charons.writeConfig(host.daemons(), spec);
        host.daemons().start(spec.daemonSpec(host.daemons().paths(spec.name())));
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        host.daemons().stop(item.name());
      }
    });
    context.configure(Items.VpnTunnel.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        tunnels.load((Items.VpnTunnel) item);
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        // load replaces the connection and initiates it again (a new uplink, new settings)
        tunnels.load((Items.VpnTunnel) newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        tunnels.unload((Items.VpnTunnel) item);
      }
    });
    context.configure(Items.MetadataServer.TYPE, metadataServers);
    NetworkStack net = host.network();
    context.configure(Items.Bridge.TYPE, new BridgeConfigurator(net));
    context.configure(Items.BridgeAddress.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var a = (Items.BridgeAddress) item;
        net.addAddress(a.bridge(), a.prefix());
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        var a = (Items.BridgeAddress) item;
        net.deleteAddress(a.bridge(), a.prefix());
      }
    });
    context.configure(Items.BridgePort.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var p = (Items.BridgePort) item;
        net.setMaster(p.link(), p.bridge());
        net.setUp(p.link(), true);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        var p = (Items.BridgePort) item;
        if (net.link(p.link()).isPresent()) {
          net.clearMaster(p.link());
        }
      }
    });
    context.configure(Items.BridgeVlanFiltering.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        // a kernel without CONFIG_BRIDGE_VLAN_FILTERING refuses with Bridges.NO_VLAN_FILTERING, which
        // reaches the NI's status as the item's failure
        net.setVlanFiltering(((Items.BridgeVlanFiltering) item).bridge(), true);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        String bridge = ((Items.BridgeVlanFiltering) item).bridge();
        if (net.link(bridge).isPresent()) {
          net.setVlanFiltering(bridge, false);
        }
      }
    });
    context.configure(Items.PortVlans.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var p = (Items.PortVlans) item;
        java.util.Set<Integer> wanted = new java.util.HashSet<>();
        for (dev.verge.hostos.BridgeVlanRange range : p.vlan().ranges()) {
          net.addBridgeVlans(p.link(), range);
          for (int vid = range.first(); vid <= range.last(); vid++) {
            wanted.add(vid);
          }
        }
        // exactly these: an access port leaves the default VLAN 1 it joined the bridge with
        for (dev.verge.hostos.BridgeVlan present : net.bridgeVlans(p.link())) {
          if (!wanted.contains(present.vid())) {
            net.deleteBridgeVlans(p.link(), present.vid(), present.vid());
          }
        }
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        var p = (Items.PortVlans) item;
        if (net.link(p.link()).isPresent() && net.link(p.link()).get().masterIndex() != 0) {
          for (dev.verge.hostos.BridgeVlan present : net.bridgeVlans(p.link())) {
            net.deleteBridgeVlans(p.link(), present.vid(), present.vid());
          }
          net.addBridgeVlans(p.link(), dev.verge.hostos.BridgeVlanRange.access(1)); // as a port joins
        }
      }
    });
    context.configure(Items.NiRoute.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        net.replaceRoute(((Items.NiRoute) item).route());
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        try {
          net.deleteRoute(((Items.NiRoute) item).route());
        } catch (HostException e) {
          if (!e.errno().equals(Errno.ESRCH) && !e.errno().equals(Errno.ENOENT)) {
            throw e; // gone with its link is fine; anything else is told
          }
        }
      }
    });
    context.configure(Items.NiRule.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        net.addRule(((Items.NiRule) item).rule());
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        net.deleteRule(((Items.NiRule) item).rule());
      }
    });
    Firewall firewall = host.firewall();
    context.configure(Items.NftTable.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        firewall.apply(NftBatch.replaceTable(((Items.NftTable) item).table()));
      }

      /**
       * A rewrite keeps what the kernel gathered: per-ACE counters go on from their values (metrics
       * read them as running totals) and host sets keep the addresses dnsmasq resolved (it only adds
       * them again on the apps' next lookups).
       */
      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        var table = ((Items.NftTable) newItem).table();
        java.util.Map<String, dev.verge.hostos.nft.CounterValues> counters = java.util.Map.of();
        java.util.Map<String, java.util.List<dev.verge.hostos.nft.Value>> sets = new java.util.HashMap<>();
        try {
          var listing = dev.verge.hostos.nft.NftJson.parseListing(
              firewall.listTable(table.ref().family().nftName(), table.ref().name()));
          counters = listing.counters();
          listing.table().sets().stream().filter(set -> set.name().startsWith(NiFirewall.HOST_SET_PREFIX))
              .forEach(set -> sets.put(set.name(), set.elements()));
        } catch (dev.verge.hostos.HostException e) {
          if (!e.errno().equals(dev.verge.hostos.Errno.ENOENT)) {
            throw e;
          }
          // gone meanwhile (someone deleted it): created afresh
        }
        firewall.apply(NftBatch.replaceTable(table, counters, sets));
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        firewall.apply(NftBatch.of(new NftCommand.DeleteTable(((Items.NftTable) item).table().ref())));
      }
    });
    context.configure(Items.Dnsmasq.TYPE, new DnsmasqConfigurator(host.daemons(), context.loop(), dnsmasqOutput));
    context.configure(Items.SysctlSetting.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var s = (Items.SysctlSetting) item;
        host.sysctl().set(s.key(), s.value());
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        create(ctx, newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        // left on: nim may route between ports too, and turning forwarding off is not zedrouter's call
      }
    });
  }

}
