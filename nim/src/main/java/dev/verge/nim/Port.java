package dev.verge.nim;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

/**
 * One link nim runs for a port config: a port the device uses (a system adapter: management or
 * app-shared, with IP settings), or a link only underneath one (a bond member, a VLAN parent that
 * no port names). Validated: a {@code Port} in a {@link PortConfig} is always consistent.
 *
 * @param label logical label (the system adapter's name for a port, the adapter's label otherwise)
 * @param ifName kernel name, at most 15 characters
 * @param kind what the link is
 * @param vlan for a VLAN: its parent's interface name and VLAN id
 * @param bond for a bond: its kernel settings and members (interface names, the first primary in
 *     active-backup)
 * @param master for a bond member: the bond's interface name
 * @param usage whether it carries controller traffic, apps only, or no IP at all
 * @param cost 0..255, lower preferred for controller traffic
 * @param addressing DHCP, static or none
 * @param dnsServers configured DNS servers (a lease adds its own)
 * @param mtu 0: leave the kernel's (1500 for a new link)
 * @param allowLocalModifications whether a local override may change its IP settings and MTU
 * @param proxy the explicit proxy the device's own traffic takes out of this port, if any
 * @param wireless for a WiFi or cellular port: its networks (config and status only, no radio)
 * @param ntpServers configured NTP servers (addresses or host names)
 */
public record Port(
    String label,
    String ifName,
    Kind kind,
    Optional<Vlan> vlan,
    Optional<Bond> bond,
    Optional<String> master,
    Usage usage,
    int cost,
    Addressing addressing,
    List<InetAddress> dnsServers,
    int mtu,
    boolean allowLocalModifications,
    Optional<Proxy> proxy,
    Optional<Wireless> wireless,
    List<String> ntpServers) {

  public Port {
    dnsServers = List.copyOf(dnsServers);
    ntpServers = List.copyOf(ntpServers);
  }

  /** A port without a proxy. */
  public Port(String label, String ifName, Kind kind, Optional<Vlan> vlan, Optional<Bond> bond, Optional<String> master,
      Usage usage, int cost, Addressing addressing, List<InetAddress> dnsServers, int mtu,
      boolean allowLocalModifications) {
    this(label, ifName, kind, vlan, bond, master, usage, cost, addressing, dnsServers, mtu, allowLocalModifications,
        Optional.empty(), Optional.empty(), List.of());
  }

  /**
   * A WiFi or cellular port's settings as the status may show them: the SSIDs or APNs, never the
   * credentials (they were checked for presence when the config was read).
   */
  public record Wireless(Kind kind, List<String> networks) {
    public Wireless {
      networks = List.copyOf(networks);
    }
  }

  /**
   * An HTTP proxy (TLS goes through it with CONNECT) and the hosts reached without it.
   *
   * @param exceptions host names, domains ({@code .example.com} or {@code example.com}: it and its
   *     subdomains), IP literals, or {@code *}
   */
  public record Proxy(String host, int port, List<String> exceptions) {
    public Proxy {
      exceptions = List.copyOf(exceptions);
    }

    public String url() {
      return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Whether traffic to {@code target} goes direct (curl's NO_PROXY rules, case-insensitive). */
    public boolean bypasses(String target) {
      String t = target.toLowerCase(java.util.Locale.ROOT);
      for (String e : exceptions) {
        String x = e.toLowerCase(java.util.Locale.ROOT);
        String domain = x.startsWith(".") ? x.substring(1) : x;
        if (x.equals("*") || t.equals(domain) || t.endsWith("." + domain)) {
          return true;
        }
      }
      return false;
    }
  }

  public enum Kind {
    // In the order links are built: a bond before the VLANs on it.
    ETHERNET, WIFI, CELLULAR, BOND, VLAN;

    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public enum Usage {
    /** May carry controller traffic (and apps'). */
    MANAGEMENT,
    /** Apps only, through network instances: local checks, no controller test. */
    APP_SHARED,
    /** No IP on the device: a bond member, a VLAN parent, a switch NI's port. */
    L2_ONLY
  }

  public record Vlan(String parent, int id) {}

  public record Bond(LinkSpec.Bond spec, List<String> members) {
    public Bond {
      members = List.copyOf(members);
    }
  }

  /** How a port gets its address. */
  public sealed interface Addressing {
    record Dhcp() implements Addressing {}

    /** A fixed address; the gateway, if any, is inside its subnet. */
    record Static(IpPrefix address, Optional<InetAddress> gateway) implements Addressing {}

    record None() implements Addressing {}
  }

  public boolean isManagement() {
    return usage == Usage.MANAGEMENT;
  }

  /**
   * Traffic on it may cost money: EVE's "freeuplink" label is a management port of cost 0, every
   * other one is not free (cellular is configured with a cost); probed rarely while not in use.
   */
  public boolean isMetered() {
    return cost > 0;
  }

  /** A port of the config (it has IP or is named by a system adapter), not only a lower layer. */
  public boolean hasIp() {
    return !(addressing instanceof Addressing.None);
  }

  public Port withIp(Addressing newAddressing, List<InetAddress> newDns, int newMtu) {
    return new Port(label, ifName, kind, vlan, bond, master, usage, cost, newAddressing, newDns, newMtu,
        allowLocalModifications, proxy, wireless, ntpServers);
  }
}
