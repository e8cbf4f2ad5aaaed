package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.proto.config.v1.DnsEntry;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks network-instance configs against each other and the device's ports, and fills in EVE's
 * defaults (gateway = subnet+1; DHCP range from +2, or from the middle of a subnet of 16 addresses or
 * more, to size-2). Pure: the same configs and ports give the same verdicts.
 *
 * <p>Two NIs whose subnets overlap cannot both run: the one that runs already keeps running and the
 * other is refused; between two new ones, the lower UUID wins, so the verdict never depends on the
 * order configs arrived in.
 */
public final class NiValidator {
  /** EVE's smallest local NI subnet: network, gateway, one app, broadcast. */
  public static final int MAX_PREFIX_LENGTH = 30;
  /** Subnets of at least this many addresses hand out DHCP addresses from their middle (EVE). */
  public static final int LARGE_SUBNET_SIZE = 16;
  public static final int MIN_MTU = 1280;
  public static final int DEFAULT_MTU = 1500;

  private NiValidator() {}

  /** An NI that may run, without its allocated bridge number yet. */
  public record Accepted(
      String uuid, String displayName, NiSpec.Kind kind, Optional<NiSpec.LocalIp> ip, UplinkChoice uplink, int mtu,
      Optional<VpnPlan> vpn) {
    public NiSpec toSpec(int bridgeNumber) {
      return new NiSpec(uuid, displayName, kind, bridgeNumber, ip, uplink, mtu, vpn);
    }
  }

  /** The verdict on one NI: accepted, or refused with every error found. */
  public record Verdict(Optional<Accepted> accepted, List<NiError> errors) {
    public Verdict {
      errors = List.copyOf(errors);
    }

    static Verdict ok(Accepted accepted) {
      return new Verdict(Optional.of(accepted), List.of());
    }

    static Verdict refused(List<NiError> errors) {
      return new Verdict(Optional.empty(), errors);
    }
  }

  /**
   * Validates the activated NIs.
   *
   * @param running NIs that run now: they win subnet conflicts against new ones
   * @return a verdict per activated NI, by UUID (inactive NIs are left out: nothing of them runs)
   */
  public static Map<String, Verdict> validate(
      Map<String, NetworkInstanceConfig> configs, DeviceNetwork network, Set<String> running) {
    List<String> order = new ArrayList<>();
    configs.keySet().stream().filter(running::contains).sorted().forEach(order::add);
    configs.keySet().stream().filter(u -> !running.contains(u)).sorted().forEach(order::add);

    Map<String, Verdict> verdicts = new LinkedHashMap<>();
    Map<String, IpPrefix> acceptedSubnets = new LinkedHashMap<>();
    for (String uuid : order) {
      NetworkInstanceConfig config = configs.get(uuid);
      if (!config.getActivate()) {
        continue;
      }
      List<NiError> errors = new ArrayList<>();
      Optional<Accepted> accepted = check(uuid, config, network, acceptedSubnets, errors);
      if (accepted.isPresent() && errors.isEmpty()) {
        accepted.get().ip().ifPresent(ip -> acceptedSubnets.put(uuid, ip.subnet()));
        // a VPN NI's remote subnets are routed through its tunnel: no other NI may use them
        accepted.get().vpn().ifPresent(vpn -> {
          for (int i = 0; i < vpn.remoteSubnets().size(); i++) {
            acceptedSubnets.put(uuid + " (remote subnet)" + (i == 0 ? "" : " " + i), vpn.remoteSubnets().get(i));
          }
        });
        verdicts.put(uuid, Verdict.ok(accepted.get()));
      } else {
        verdicts.put(uuid, Verdict.refused(errors));
      }
    }
    return verdicts;
  }

  private static Optional<Accepted> check(String uuid, NetworkInstanceConfig config, DeviceNetwork network,
      Map<String, IpPrefix> acceptedSubnets, List<NiError> errors) {
    NiSpec.Kind kind;
    switch (config.getType()) {
      case TYPE_LOCAL -> kind = NiSpec.Kind.LOCAL;
      case TYPE_SWITCH -> kind = NiSpec.Kind.SWITCH;
      case TYPE_VPN -> kind = NiSpec.Kind.VPN;
      default -> {
        errors.add(new NiError("BAD_TYPE", "type", "the network instance type is not set (local or switch)"));
        return Optional.empty();
      }
    }
    String label = config.getPort().getName();
    UplinkChoice uplink = checkPort(kind, label, network, errors);
    Optional<NiSpec.LocalIp> ip = Optional.empty();
    if (kind != NiSpec.Kind.SWITCH) {
      ip = checkLocalIp(uuid, config, network, acceptedSubnets, errors);
    }
    Optional<VpnPlan> vpn = Optional.empty();
    if (kind == NiSpec.Kind.VPN) {
      if (label.isEmpty()) {
        errors.add(new NiError("VPN_NEEDS_UPLINK", "port.name", "a VPN network instance needs a port to reach its peer"));
      }
      vpn = VpnValidator.check(config.getVpn(), ip.map(NiSpec.LocalIp::subnet), network, acceptedSubnets, errors);
    }
    int mtu = checkMtu(config.getMtu(), uplink, errors);
    UplinkProber.checkProbe(config.getUplinkProbe()).ifPresent(errors::add);
    if (!errors.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Accepted(uuid, config.getDisplayName(), kind, ip, uplink, mtu, vpn));
  }

  private static UplinkChoice checkPort(NiSpec.Kind kind, String label, DeviceNetwork network, List<NiError> errors) {
    if (label.isEmpty()) {
      return UplinkChoice.airGapped();
    }
    List<Port> candidates = UplinkSelector.candidates(label, network);
    if (!UplinkSelector.isSharedLabel(label) && candidates.isEmpty()) {
      List<String> known = network.getPortsList().stream().map(Port::getLabel).sorted().toList();
      errors.add(new NiError("UNKNOWN_UPLINK_LABEL", "port.name", "port label '" + label
          + "' names no port of the device (ports: " + (known.isEmpty() ? "none" : String.join(", ", known)) + ")"));
      return UplinkChoice.airGapped();
    }
    if (kind == NiSpec.Kind.SWITCH) {
      if (UplinkSelector.isSharedLabel(label)) {
        errors.add(new NiError("SWITCH_NEEDS_ONE_PORT", "port.name", "a switch network instance bridges one port,"
            + " named by its own label, not the shared label '" + label + "'"));
        return UplinkChoice.airGapped();
      }
      Port port = candidates.get(0);
      if (port.getAddressesCount() > 0 || port.getUsage() == Port.Usage.USAGE_MANAGEMENT) {
        errors.add(new NiError("SWITCH_PORT_HAS_IP", "port.name", "port " + label + " (" + port.getIfName()
            + ") carries the device's own IP traffic (" + String.join(", ", port.getAddressesList())
            + "); a switch network instance only bridges L2-only ports"));
      }
      return UplinkSelector.choose(label, network, false);
    }
    return UplinkSelector.choose(label, network, true);
  }

  private static Optional<NiSpec.LocalIp> checkLocalIp(String uuid, NetworkInstanceConfig config,
      DeviceNetwork network, Map<String, IpPrefix> acceptedSubnets, List<NiError> errors) {
    IpSpec spec = config.getIp();
    if (spec.getSubnet().isEmpty()) {
      errors.add(new NiError("MISSING_SUBNET", "ip.subnet", "a local network instance needs a subnet"));
      return Optional.empty();
    }
    IpPrefix subnet;
    try {
      subnet = IpPrefix.parse(spec.getSubnet());
    } catch (IllegalArgumentException e) {
      errors.add(new NiError("BAD_SUBNET", "ip.subnet", "subnet '" + spec.getSubnet() + "' is not an IP prefix"));
      return Optional.empty();
    }
    if (!subnet.isIpv4()) {
      errors.add(new NiError("UNSUPPORTED_IPV6", "ip.subnet", "subnet " + subnet
          + " is IPv6; zedrouter runs IPv4 local network instances only for now"));
      return Optional.empty();
    }
    if (!subnet.equals(subnet.network())) {
      errors.add(new NiError("BAD_SUBNET", "ip.subnet", "subnet " + subnet + " has host bits set (the network is "
          + subnet.network() + ")"));
      return Optional.empty();
    }
    if (subnet.length() > MAX_PREFIX_LENGTH) {
      errors.add(new NiError("SUBNET_TOO_SMALL", "ip.subnet", "subnet " + subnet + " has fewer than "
          + (1 << (32 - MAX_PREFIX_LENGTH)) + " addresses (network, gateway, one app, broadcast)"));
      return Optional.empty();
    }
    long first = Ipv4.first(subnet);
    long last = Ipv4.last(subnet);
    long size = Ipv4.size(subnet);

    long gateway = first + 1;
    if (!spec.getGateway().isEmpty()) {
      Optional<Long> parsed = address(spec.getGateway());
      if (parsed.isEmpty()) {
        errors.add(new NiError("BAD_GATEWAY", "ip.gateway", "gateway '" + spec.getGateway() + "' is not an IPv4 address"));
      } else if (parsed.get() <= first || parsed.get() >= last) {
        errors.add(new NiError("BAD_GATEWAY", "ip.gateway", "gateway " + spec.getGateway()
            + " is not a host address of subnet " + subnet));
      } else {
        gateway = parsed.get();
      }
    }

    long start = size >= LARGE_SUBNET_SIZE ? first + size / 2 : first + 2;
    long end = first + size - 2;
    boolean hasStart = !spec.getDhcpRange().getStart().isEmpty();
    boolean hasEnd = !spec.getDhcpRange().getEnd().isEmpty();
    if (hasStart != hasEnd) {
      errors.add(new NiError("BAD_DHCP_RANGE", "ip.dhcp_range", "a DHCP range needs both start and end"));
    } else if (hasStart) {
      Optional<Long> s = address(spec.getDhcpRange().getStart());
      Optional<Long> e = address(spec.getDhcpRange().getEnd());
      String range = spec.getDhcpRange().getStart() + "-" + spec.getDhcpRange().getEnd();
      if (s.isEmpty() || e.isEmpty()) {
        errors.add(new NiError("BAD_DHCP_RANGE", "ip.dhcp_range", "DHCP range " + range + " is not two IPv4 addresses"));
      } else if (s.get() <= first || e.get() >= last) {
        errors.add(new NiError("BAD_DHCP_RANGE", "ip.dhcp_range", "DHCP range " + range
            + " is not inside the host addresses of subnet " + subnet));
      } else if (s.get() > e.get()) {
        errors.add(new NiError("BAD_DHCP_RANGE", "ip.dhcp_range", "DHCP range " + range + " starts after it ends"));
      } else if (gateway >= s.get() && gateway <= e.get()) {
        errors.add(new NiError("BAD_DHCP_RANGE", "ip.dhcp_range", "DHCP range " + range
            + " contains the gateway " + Ipv4.text(gateway)));
      } else {
        start = s.get();
        end = e.get();
      }
    }

    for (Port port : network.getPortsList()) {
      for (String address : port.getAddressesList()) {
        try {
          IpPrefix portPrefix = IpPrefix.parse(address);
          if (portPrefix.isIpv4() && Ipv4.overlap(subnet, portPrefix.network())) {
            errors.add(new NiError("SUBNET_OVERLAPS_PORT", "ip.subnet", "subnet " + subnet + " overlaps "
                + portPrefix.network() + " of port " + port.getLabel() + " (" + port.getIfName() + ")"));
          }
        } catch (IllegalArgumentException ignored) {
          // nim reports its own bad addresses
        }
      }
    }
    for (Map.Entry<String, IpPrefix> other : acceptedSubnets.entrySet()) {
      if (Ipv4.overlap(subnet, other.getValue())) {
        errors.add(new NiError("SUBNET_OVERLAP", "ip.subnet", "subnet " + subnet + " overlaps subnet "
            + other.getValue() + " of network instance " + other.getKey()));
      }
    }

    List<String> dns = new ArrayList<>();
    for (int i = 0; i < spec.getDnsCount(); i++) {
      if (address(spec.getDns(i)).isEmpty()) {
        errors.add(new NiError("BAD_DNS_SERVER", "ip.dns[" + i + "]", "DNS server '" + spec.getDns(i)
            + "' is not an IPv4 address"));
      } else {
        dns.add(spec.getDns(i));
      }
    }
    List<NiSpec.StaticDns> entries = staticDns(config.getDnsList(), errors);
    List<NiSpec.StaticRoute> routes = staticRoutes(config.getStaticRoutesList(), subnet, errors);
    return Optional.of(new NiSpec.LocalIp(subnet, Ipv4.fromLong(gateway), Ipv4.fromLong(start), Ipv4.fromLong(end),
        spec.getDomain(), dns, entries, routes));
  }

  /**
   * Static routes: an IPv4 destination prefix and gateway each; a gateway in the NI's subnet is an app
   * that routes (announced to the apps as it is), any other is a router the device reaches through
   * its uplink (the apps are told to send to the NI's gateway).
   */
  private static List<NiSpec.StaticRoute> staticRoutes(Collection<dev.verge.proto.config.v1.StaticRoute> routes,
      IpPrefix subnet, List<NiError> errors) {
    List<NiSpec.StaticRoute> result = new ArrayList<>();
    int i = 0;
    for (dev.verge.proto.config.v1.StaticRoute route : routes) {
      String at = "static_routes[" + i++ + "]";
      IpPrefix destination;
      try {
        destination = IpPrefix.parse(route.getDestination());
      } catch (IllegalArgumentException e) {
        errors.add(new NiError("BAD_STATIC_ROUTE", at + ".destination", "destination '" + route.getDestination()
            + "' is not an IP prefix"));
        continue;
      }
      if (!destination.isIpv4() || !destination.equals(destination.network())) {
        errors.add(new NiError("BAD_STATIC_ROUTE", at + ".destination", "destination " + destination
            + (destination.isIpv4() ? " has host bits set" : " is IPv6; static routes are IPv4 for now")));
        continue;
      }
      Optional<Long> gateway = address(route.getGateway());
      if (gateway.isEmpty()) {
        errors.add(new NiError("BAD_STATIC_ROUTE", at + ".gateway", "gateway '" + route.getGateway()
            + "' of " + destination + " is not an IPv4 address"));
        continue;
      }
      if (Ipv4.overlap(destination, subnet)) {
        errors.add(new NiError("BAD_STATIC_ROUTE", at + ".destination", "destination " + destination
            + " overlaps the network instance's own subnet " + subnet));
        continue;
      }
      result.add(new NiSpec.StaticRoute(destination, Ipv4.fromLong(gateway.get())));
    }
    return result;
  }

  private static List<NiSpec.StaticDns> staticDns(Collection<DnsEntry> entries, List<NiError> errors) {
    List<NiSpec.StaticDns> result = new ArrayList<>();
    int i = 0;
    for (DnsEntry entry : entries) {
      if (!entry.getHostName().matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")) {
        errors.add(new NiError("BAD_DNS_ENTRY", "dns[" + i + "].host_name", "'" + entry.getHostName()
            + "' is not a DNS host name"));
      }
      for (String address : entry.getAddressesList()) {
        try {
          IpPrefix.literal(address);
        } catch (IllegalArgumentException e) {
          errors.add(new NiError("BAD_DNS_ENTRY", "dns[" + i + "].addresses", "address '" + address + "' of "
              + entry.getHostName() + " is not an IP address"));
        }
      }
      result.add(new NiSpec.StaticDns(entry.getHostName(), entry.getAddressesList()));
      i++;
    }
    return result;
  }

  private static int checkMtu(int configured, UplinkChoice uplink, List<NiError> errors) {
    int portMtu = uplink.candidates().stream().mapToInt(Port::getMtu).filter(m -> m > 0).min().orElse(0);
    if (configured == 0) {
      return portMtu > 0 ? portMtu : DEFAULT_MTU;
    }
    if (configured < MIN_MTU) {
      errors.add(new NiError("BAD_MTU", "mtu", "MTU " + configured + " is below the minimum of " + MIN_MTU));
    } else if (configured > 65535) {
      errors.add(new NiError("BAD_MTU", "mtu", "MTU " + configured + " is above 65535"));
    } else if (portMtu > 0 && configured > portMtu) {
      errors.add(new NiError("MTU_ABOVE_PORT", "mtu", "MTU " + configured + " is above the MTU " + portMtu
          + " of port " + uplink.label()));
    }
    return configured;
  }

  /** A strictly parsed IPv4 address as a number; empty when the text is not one. */
  static Optional<Long> address(String text) {
    try {
      InetAddress address = IpPrefix.literal(text);
      return address instanceof java.net.Inet4Address ? Optional.of(Ipv4.toLong(address)) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
