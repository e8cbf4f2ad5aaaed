package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.RouteRequest;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.Rule;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.topics.v1.Port;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * zedrouter's intended state as a pure function of the NIs it runs and the VIFs planned on them.
 *
 * <ul>
 *   <li>Local NI: bridge {@code bn<N>} with EVE's MAC and the gateway address; table {@code 800+N}
 *       with the subnet, the uplink's connected prefixes and default route, and a last-resort
 *       {@code unreachable} default so an NI's traffic never falls through to another table; rules
 *       10000 (from the subnet) and 11000 (to it); the NI's nftables table; IPv4 forwarding.
 *   <li>Switch NI: the bridge with the uplink port enslaved, no address, no NAT; its ACLs in a
 *       {@code bridge} table.
 *   <li>Each VIF whose tap exists goes on its NI's bridge.
 * </ul>
 */
public final class NiGraph {
  public static final String GRAPH = "zedrouter";
  public static final int RULE_FROM_SUBNET = 10000;
  public static final int RULE_TO_SUBNET = 11000;
  /** Port-mapped flows from inside the device (marked {@link NiFirewall#MARK_HAIRPIN}) look up the hairpin table first. */
  public static final int RULE_HAIRPIN = 9000;
  /** Every local NI's subnet on its bridge: the way between NIs for port-mapped flows only. */
  public static final int HAIRPIN_TABLE = 799;
  /** Lower than any route a table copies, so it is the last resort. */
  public static final int UNREACHABLE_METRIC = Integer.MAX_VALUE;

  private NiGraph() {}

  /**
   * @param graph the intended graph
   * @param itemsByNi each NI's own items (not its VIFs'), to tell when it is ONLINE
   * @param externalLinks the links the graph depends on but does not own
   */
  public record Built(GraphR graph, Map<String, List<ItemRef>> itemsByNi, Set<String> externalLinks) {}

  public static Built build(String nodeId, List<NiSpec> nis, List<VifPlan> vifs) {
    List<Item> items = new ArrayList<>();
    Map<String, List<ItemRef>> byNi = new LinkedHashMap<>();
    Set<String> external = new TreeSet<>();
    boolean forwarding = false;
    for (NiSpec ni : nis.stream().sorted(Comparator.comparing(NiSpec::uuid)).toList()) {
      List<Item> own = new ArrayList<>();
      String br = ni.bridge();
      own.add(new Items.Bridge(br, ni.mtu(), MacScheme.bridge(nodeId, ni.bridgeNumber())));
      List<VifPlan> onNi = vifs.stream().filter(v -> v.niUuid().equals(ni.uuid())).toList();
      if (ni.isRouted()) {
        NiSpec.LocalIp ip = ni.ip().orElseThrow();
        Items.BridgeAddress address = new Items.BridgeAddress(br, ip.gatewayPrefix());
        own.add(address);
        int table = ni.routingTable();
        own.add(new Items.NiRoute(new RouteRequest(ip.subnet(), Optional.empty(), Optional.of(br), table, 0,
            RouteType.UNICAST).withPreferredSource(ip.gateway().getHostAddress()), Optional.of(address.name())));
        own.add(new Items.NiRoute(new RouteRequest(IpPrefix.parse("0.0.0.0/0"), Optional.empty(), Optional.empty(),
            table, UNREACHABLE_METRIC, RouteType.UNREACHABLE)));
        // a VPN NI's other traffic leaves by the uplink only when it is NATed (off by default)
        boolean natOut = ni.vpn().map(VpnPlan::natOtherTraffic).orElse(true);
        ni.uplink().port().ifPresent(port -> {
          external.add(port.getIfName());
          own.addAll(natOut ? uplinkRoutes(port, table) : uplinkRoutes(port, table).subList(0, connectedRoutes(port)));
        });
        for (NiSpec.StaticRoute route : installableRoutes(ni)) {
          boolean throughApp = ip.subnet().contains(route.gateway());
          String dev = throughApp ? br : ni.uplink().ifName().orElseThrow();
          // an app gateway is on-link only once the bridge has its address
          own.add(new Items.NiRoute(new RouteRequest(route.destination(), Optional.of(route.gateway()), Optional.of(dev),
              table, 0, RouteType.UNICAST), throughApp ? Optional.of(address.name()) : Optional.empty()));
        }
        own.add(new Items.NiRule(new Rule(false, RULE_FROM_SUBNET, Optional.of(ip.subnet()), Optional.empty(),
            Optional.empty(), 0, table)));
        own.add(new Items.NiRule(new Rule(false, RULE_TO_SUBNET, Optional.empty(), Optional.of(ip.subnet()),
            Optional.empty(), 0, table)));
        own.add(new Items.NiRoute(new RouteRequest(ip.subnet(), Optional.empty(), Optional.of(br), HAIRPIN_TABLE, 0,
            RouteType.UNICAST).withPreferredSource(ip.gateway().getHostAddress()), Optional.of(address.name())));
        own.add(new Items.NftTable(NiFirewall.localNi(ni, onNi)));
        own.add(new Items.Dnsmasq(DnsmasqConfig.of(ni, onNi)));
        own.add(new Items.MetadataServer(br, ip.gateway().getHostAddress(), address.name()));
        ni.vpn().ifPresent(vpn -> {
          Items.Charon charon = new Items.Charon(vpn.charon(ni.bridgeNumber()));
          own.add(charon);
          uplinkAddress(ni).ifPresent(local -> own.add(new Items.VpnTunnel(ni.uuid(), charon.name(),
              vpn.connection(vpnConnectionName(ni), local), vpn.psk(), vpn.certificates().map(VpnPlan.Certificates::key),
              vpn.backend(), address.name())));
        });
        forwarding |= ni.uplink().port().isPresent();
      } else {
        ni.uplink().port().ifPresent(port -> {
          external.add(port.getIfName());
          own.add(new Items.BridgePort(port.getIfName(), br));
        });
        own.add(new Items.NftTable(NiFirewall.switchNi(ni, onNi)));
        Optional<SwitchVlan> uplinkVlans = SwitchVlan.uplink(onNi.stream().flatMap(v -> v.vlan().stream()).toList());
        uplinkVlans.ifPresent(trunk -> {
          own.add(new Items.BridgeVlanFiltering(br));
          ni.uplink().port().ifPresent(port -> own.add(new Items.PortVlans(port.getIfName(), br, trunk)));
        });
        if (uplinkVlans.isPresent()) {
          onNi.forEach(vif -> items.add(new Items.PortVlans(vif.vifName(), br, vif.vlan().orElseThrow())));
        }
      }
      items.addAll(own);
      byNi.put(ni.uuid(), own.stream().map(Item::ref).toList());
      for (VifPlan vif : onNi) {
        external.add(vif.vifName());
        items.add(new Items.BridgePort(vif.vifName(), br));
      }
    }
    if (forwarding) {
      items.add(new Items.SysctlSetting("net.ipv4.ip_forward", "1"));
    }
    if (nis.stream().anyMatch(NiSpec::isRouted)) {
      items.add(new Items.NiRule(new Rule(false, RULE_HAIRPIN, Optional.empty(), Optional.empty(), Optional.empty(),
          Optional.empty(), (int) NiFirewall.MARK_HAIRPIN, (int) NiFirewall.MARK_HAIRPIN, -1, HAIRPIN_TABLE)));
      // byte and packet counters on every flow, for the flow log
      items.add(new Items.SysctlSetting("net.netfilter.nf_conntrack_acct", "1"));
    }
    // named once each, however many NIs share a port; present in the current state only while the
    // kernel has them (ZedrouterAgent.externalItems)
    external.forEach(name -> items.add(new Items.ExternalLink(name)));
    GraphR graph = Graphs.newGraph(GraphSpec.named(GRAPH).describedAs("network instances and app VIFs")
        .withItems(items.toArray(Item[]::new)));
    return new Built(graph, byNi, external);
  }

  /** The name of a VPN NI's connection (and CHILD_SA) in its charon. */
  public static String vpnConnectionName(NiSpec ni) {
    return "vpn-" + ni.bridge();
  }

  /** The uplink's first IPv4 address: where IKE is sent from, so a new uplink means a new tunnel. */
  static Optional<String> uplinkAddress(NiSpec ni) {
    return ni.uplink().port().flatMap(p -> p.getAddressesList().stream().map(IpPrefix::parse)
        .filter(IpPrefix::isIpv4).map(a -> a.address().getHostAddress()).findFirst());
  }

  private static int connectedRoutes(Port port) {
    return (int) port.getAddressesList().stream().map(IpPrefix::parse).filter(IpPrefix::isIpv4).count();
  }

  /**
   * The NI's static routes that can be installed now: through one of its apps, or through a router
   * on a connected prefix of the uplink in use (after a failover to a port that cannot reach the
   * router, the route is withdrawn, from the table and from what DHCP announces).
   */
  static List<NiSpec.StaticRoute> installableRoutes(NiSpec ni) {
    NiSpec.LocalIp ip = ni.ip().orElseThrow();
    List<IpPrefix> connected = ni.uplink().port().map(p -> p.getAddressesList().stream().map(IpPrefix::parse)
        .filter(IpPrefix::isIpv4).toList()).orElse(List.of());
    return ip.staticRoutes().stream().filter(r -> ip.subnet().contains(r.gateway())
        || connected.stream().anyMatch(c -> c.network().contains(r.gateway()))).toList();
  }

  /** The uplink's connected prefixes and its default route, copied into an NI's table. */
  static List<Item> uplinkRoutes(Port port, int table) {
    List<Item> routes = new ArrayList<>();
    for (String address : port.getAddressesList()) {
      IpPrefix prefix = IpPrefix.parse(address);
      if (prefix.isIpv4()) {
        routes.add(new Items.NiRoute(new RouteRequest(prefix.network(), Optional.empty(), Optional.of(port.getIfName()),
            table, 0, RouteType.UNICAST)));
      }
    }
    port.getGatewaysList().stream().filter(g -> IpPrefix.literal(g) instanceof java.net.Inet4Address).findFirst()
        .ifPresent(gw -> routes.add(new Items.NiRoute(new RouteRequest(IpPrefix.parse("0.0.0.0/0"),
            Optional.of(IpPrefix.literal(gw)), Optional.of(port.getIfName()), table, 0, RouteType.UNICAST))));
    return routes;
  }
}
