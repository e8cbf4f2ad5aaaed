package dev.verge.nim;

import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.IpPrefix;
import dev.verge.nim.PortItems.BondLink;
import dev.verge.nim.PortItems.BondMember;
import dev.verge.nim.PortItems.DhcpClient;
import dev.verge.nim.PortItems.EthernetLink;
import dev.verge.nim.PortItems.Nic;
import dev.verge.nim.PortItems.PortAddress;
import dev.verge.nim.PortItems.PortRoute;
import dev.verge.nim.PortItems.SourceRule;
import dev.verge.nim.PortItems.SysctlSetting;
import dev.verge.nim.PortItems.VlanLink;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** nim's intended graph: a pure function of the port config it runs and what it learnt (leases, indexes). */
public final class IntendedPorts {
  private IntendedPorts() {}

  /** With a link down, its routes are skipped at once (no waiting for neighbour timeouts). */
  public static final String IGNORE_LINKDOWN = "net.ipv4.conf.all.ignore_routes_with_linkdown";

  /**
   * @param config the port config in use (empty: nim has none yet and builds nothing)
   * @param leases the DHCP leases of ports, by interface name
   * @param ifIndexes interface indexes of the links that exist (a port's table is 500 + index)
   * @param controllerPort the label of the port controller traffic uses now: the device's own
   *     traffic looks up its table (rule 15100, iif lo)
   */
  public static GraphR build(
      Optional<PortConfig> config, Map<String, DhcpLease> leases, Map<String, Integer> ifIndexes,
      Optional<String> controllerPort) {
    List<Item> items = new ArrayList<>();
    config.ifPresent(c -> addPorts(c, leases, ifIndexes, controllerPort, items));
    config.map(c -> resolver(c, leases, controllerPort)).filter(r -> !r.nameservers().isEmpty()).ifPresent(items::add);
    config.map(c -> new PortItems.TimeSources(byControllerPortFirst(c, controllerPort).stream()
            .flatMap(p -> ntpServers(p, leases).stream()).distinct().toList()))
        .filter(t -> !t.servers().isEmpty()).ifPresent(items::add);
    return Graphs.newGraph(GraphSpec.named(NimAgent.NAME).describedAs("device ports")
        .withItems(items.toArray(Item[]::new)));
  }

  /**
   * The device's resolver: the DNS servers of the management ports, the controller's port first,
   * then in cost order; each port's configured servers before its lease's.
   */
  static PortItems.ResolverConfig resolver(PortConfig config, Map<String, DhcpLease> leases,
      Optional<String> controllerPort) {
    List<Port> ports = byControllerPortFirst(config, controllerPort);
    java.util.LinkedHashSet<String> servers = new java.util.LinkedHashSet<>();
    for (Port port : ports) {
      port.dnsServers().forEach(d -> servers.add(d.getHostAddress()));
      Optional.ofNullable(leases.get(port.ifName())).ifPresent(l -> l.dnsServers().forEach(d -> servers.add(d.getHostAddress())));
    }
    Optional<String> domain = controllerPort.flatMap(label -> ports.stream().filter(p -> p.label().equals(label)).findFirst())
        .flatMap(p -> Optional.ofNullable(leases.get(p.ifName()))).flatMap(DhcpLease::domain);
    return new PortItems.ResolverConfig(List.copyOf(servers), domain);
  }

  /** A port's NTP servers: the configured ones, then its lease's (option 42) not already among them. */
  public static List<String> ntpServers(Port port, Map<String, DhcpLease> leases) {
    java.util.LinkedHashSet<String> servers = new java.util.LinkedHashSet<>(port.ntpServers());
    Optional.ofNullable(leases.get(port.ifName()))
        .ifPresent(l -> l.ntpServers().forEach(s -> servers.add(s.getHostAddress())));
    return List.copyOf(servers);
  }

  /** The management ports, the one controller traffic uses first, then in cost order. */
  static List<Port> byControllerPortFirst(PortConfig config, Optional<String> controllerPort) {
    List<Port> ports = new ArrayList<>(config.managementPorts());
    ports.sort(java.util.Comparator.comparing((Port p) -> !controllerPort.map(p.label()::equals).orElse(false)));
    return ports;
  }

  /** The item that stands for a port's link (what addresses, clients and VLANs depend on). */
  public static ItemRef linkItem(Port port) {
    return switch (port.kind()) {
      // A WiFi or cellular NIC is the radio driver's link: nim handles it like an Ethernet one.
      case ETHERNET, WIFI, CELLULAR -> ItemRef.of(EthernetLink.TYPE, port.ifName());
      case VLAN -> ItemRef.of(VlanLink.TYPE, port.ifName());
      case BOND -> ItemRef.of(BondLink.TYPE, port.ifName());
    };
  }

  /** The address a port has now: its static one, or its lease's. */
  public static Optional<IpPrefix> address(Port port, Map<String, DhcpLease> leases) {
    if (port.addressing() instanceof Port.Addressing.Static s) {
      return Optional.of(s.address());
    }
    if (port.addressing() instanceof Port.Addressing.Dhcp) {
      return Optional.ofNullable(leases.get(port.ifName())).map(DhcpLease::address);
    }
    return Optional.empty();
  }

  public static Optional<InetAddress> gateway(Port port, Map<String, DhcpLease> leases) {
    if (port.addressing() instanceof Port.Addressing.Static s) {
      return s.gateway();
    }
    if (port.addressing() instanceof Port.Addressing.Dhcp) {
      return Optional.ofNullable(leases.get(port.ifName())).flatMap(l -> l.routers().stream().findFirst());
    }
    return Optional.empty();
  }

  /**
   * The order of the main table's default routes: the controller port first (if given), then by
   * usage, cost and label. The metric is 5000 (management) or 10000 (app-shared) plus the rank.
   */
  public static List<Port> routeOrder(PortConfig config, Optional<String> controllerPort) {
    return config.ports().stream()
        .filter(p -> p.usage() != Port.Usage.L2_ONLY)
        .sorted(Comparator.comparing((Port p) -> !controllerPort.map(p.label()::equals).orElse(false))
            .thenComparing(p -> p.usage() != Port.Usage.MANAGEMENT)
            .thenComparingInt(Port::cost)
            .thenComparing(Port::label))
        .toList();
  }

  private static void addPorts(PortConfig config, Map<String, DhcpLease> leases, Map<String, Integer> ifIndexes,
      Optional<String> controllerPort, List<Item> items) {
    if (config.ports().isEmpty()) {
      return;
    }
    items.add(new SysctlSetting(IGNORE_LINKDOWN, "1"));
    for (Port port : config.ports()) {
      switch (port.kind()) {
        case ETHERNET, WIFI, CELLULAR -> {
          items.add(new Nic(port.ifName()));
          if (port.master().isPresent()) {
            items.add(new BondMember(port.ifName(), port.master().get()));
          } else {
            items.add(new EthernetLink(port.ifName(), port.mtu()));
          }
        }
        case VLAN -> {
          Port.Vlan vlan = port.vlan().orElseThrow();
          ItemRef parent = config.byIfName(vlan.parent()).map(IntendedPorts::linkItem)
              .orElse(ItemRef.of(EthernetLink.TYPE, vlan.parent()));
          items.add(new VlanLink(port.ifName(), vlan.parent(), parent, vlan.id(), port.mtu()));
        }
        case BOND -> items.add(new BondLink(port.ifName(), port.bond().orElseThrow().spec(), port.mtu()));
      }
    }
    // Main-table metrics follow cost only: moving controller traffic never touches a route.
    List<Port> order = routeOrder(config, Optional.empty());
    for (Port port : config.ports()) {
      if (!port.hasIp()) {
        continue;
      }
      ItemRef link = linkItem(port);
      if (port.addressing() instanceof Port.Addressing.Dhcp) {
        items.add(new DhcpClient(port.ifName(), link));
      }
      Optional<IpPrefix> address = address(port, leases);
      if (address.isEmpty()) {
        continue;
      }
      PortAddress portAddress = new PortAddress(port.ifName(), link, address.get());
      items.add(portAddress);
      Optional<InetAddress> gateway = gateway(port, leases);
      Integer index = ifIndexes.get(port.ifName());
      if (index != null) {
        int table = PortItems.TABLE_BASE + index;
        IpPrefix host = new IpPrefix(address.get().address(), address.get().address().getAddress().length * 8);
        items.add(new PortRoute(port.ifName(), link, table, address.get().network(), Optional.empty(), 0,
            Optional.of(address.get().address()), portAddress.ref()));
        if (gateway.isPresent()) {
          PortRoute tableDefault = new PortRoute(port.ifName(), link, table, defaultRoute(address.get()),
              gateway, 0, Optional.empty(), portAddress.ref());
          items.add(tableDefault);
          if (controllerPort.map(port.label()::equals).orElse(false)) {
            items.add(new PortItems.ControllerRule(table, tableDefault.ref()));
          }
        }
        items.add(new SourceRule(host, table, portAddress.ref()));
      }
      if (gateway.isPresent()) {
        int rank = order.indexOf(port);
        int metric = (port.isManagement() ? PortItems.MGMT_METRIC_BASE : PortItems.APP_METRIC_BASE) + rank;
        items.add(new PortRoute(port.ifName(), link, dev.verge.hostos.RouteRequest.MAIN_TABLE,
            defaultRoute(address.get()), gateway, metric, Optional.empty(), portAddress.ref()));
      }
    }
  }

  private static IpPrefix defaultRoute(IpPrefix family) {
    return IpPrefix.parse(family.isIpv4() ? "0.0.0.0/0" : "::/0");
  }
}
