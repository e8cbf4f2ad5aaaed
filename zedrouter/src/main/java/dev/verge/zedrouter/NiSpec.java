package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A network instance as zedrouter runs it: a validated config with its defaults filled in, its
 * allocated bridge number and its uplink. Everything the intended graph needs, nothing it must parse.
 *
 * @param bridgeNumber from the persisted allocator: names the bridge ({@code bn<N>}), its MAC and its
 *     routing table ({@code 800+N})
 * @param ip the local NI's addressing; empty for a switch NI
 * @param mtu of the bridge and the VIFs
 */
public record NiSpec(
    String uuid,
    String displayName,
    Kind kind,
    int bridgeNumber,
    Optional<LocalIp> ip,
    UplinkChoice uplink,
    int mtu,
    Optional<VpnPlan> vpn) {

  /** The first routing table of NIs, EVE's: NI N uses {@code 800+N}. */
  public static final int TABLE_BASE = 800;

  public enum Kind {
    LOCAL,
    SWITCH,
    /** A local NI whose traffic to remote subnets goes through an IPsec tunnel. */
    VPN
  }

  /** Routed with its own subnet, DHCP and DNS: a local or a VPN NI. */
  public boolean isRouted() {
    return kind == Kind.LOCAL || kind == Kind.VPN;
  }

  /**
   * A local NI's IPv4 plan.
   *
   * @param rangeStart first address DHCP hands out (and the base of dynamic VIF addresses)
   * @param rangeEnd last address DHCP hands out
   * @param dnsServers the DNS servers DHCP announces (empty: the bridge)
   * @param staticDns host name to addresses, served by the NI's DNS
   * @param staticRoutes routes the NI's table carries and its DHCP announces (option 121)
   */
  public record LocalIp(
      IpPrefix subnet,
      InetAddress gateway,
      InetAddress rangeStart,
      InetAddress rangeEnd,
      String domain,
      List<String> dnsServers,
      List<StaticDns> staticDns,
      List<StaticRoute> staticRoutes) {
    public LocalIp {
      Objects.requireNonNull(subnet);
      Objects.requireNonNull(gateway);
      dnsServers = List.copyOf(dnsServers);
      staticDns = List.copyOf(staticDns);
      staticRoutes = List.copyOf(staticRoutes);
    }

    public LocalIp(IpPrefix subnet, InetAddress gateway, InetAddress rangeStart, InetAddress rangeEnd, String domain,
        List<String> dnsServers, List<StaticDns> staticDns) {
      this(subnet, gateway, rangeStart, rangeEnd, domain, dnsServers, staticDns, List.of());
    }

    /** The gateway as an address of the bridge. */
    public IpPrefix gatewayPrefix() {
      return new IpPrefix(gateway, subnet.length());
    }
  }

  /**
   * A route of the NI's apps to {@code destination}: through an app of the NI ({@code gateway} in the
   * subnet) or through a router beyond the uplink (the device forwards to it).
   */
  public record StaticRoute(IpPrefix destination, InetAddress gateway) {
    public StaticRoute {
      Objects.requireNonNull(destination);
      Objects.requireNonNull(gateway);
    }
  }

  public record StaticDns(String hostName, List<String> addresses) {
    public StaticDns {
      addresses = List.copyOf(addresses);
    }
  }

  public NiSpec {
    Objects.requireNonNull(uuid);
    Objects.requireNonNull(kind);
    Objects.requireNonNull(ip);
    Objects.requireNonNull(uplink);
    Objects.requireNonNull(vpn);
    if ((kind == Kind.VPN) != vpn.isPresent()) {
      throw new IllegalArgumentException("a VPN plan goes with a VPN NI, and only with it");
    }
    if (bridgeNumber < 1) {
      throw new IllegalArgumentException("bridge number " + bridgeNumber + " must be positive");
    }
  }

  public String bridge() {
    return "bn" + bridgeNumber;
  }

  public int routingTable() {
    return TABLE_BASE + bridgeNumber;
  }

  public NiSpec withUplink(UplinkChoice newUplink) {
    return new NiSpec(uuid, displayName, kind, bridgeNumber, ip, newUplink, mtu, vpn);
  }
}
