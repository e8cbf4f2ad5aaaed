package dev.verge.zedrouter;

import dev.verge.hostos.DaemonPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one local NI's dnsmasq serves, as data: rendered into its config file and host files
 * (EVE's layout: one {@code dhcp-hostsdir} file per MAC pinning the VIF's address, one
 * {@code hostsdir} file per name), in the daemon's own directories.
 *
 * @param router announced as the default gateway only when the NI has an uplink (EVE: air-gapped NIs
 *     announce none, so apps do not send everything into a void)
 * @param upstreamServers the uplink's DNS servers (in {@link #upstreamFile}, not the config file)
 * @param reservations DHCP reservations: MAC to address and host name
 * @param names DNS names served locally: name to addresses (apps, {@code router}, static entries)
 * @param hostSets ACL host names whose resolved addresses dnsmasq adds to the NI's nft sets
 * @param classlessRoutes option 121 (RFC 3442): destination prefix to next hop, in order; a client
 *     that gets it ignores the router option, so the default route is in it too
 */
public record DnsmasqConfig(
    String bridge,
    String gateway,
    String rangeStart,
    String rangeEnd,
    String netmask,
    Optional<String> router,
    String domain,
    List<String> dnsServers,
    List<String> upstreamServers,
    int mtu,
    Map<String, Reservation> reservations,
    Map<String, List<String>> names,
    Map<String, String> hostSets,
    String nftTable,
    List<Map.Entry<String, String>> classlessRoutes) {

  /** EVE's lease time. */
  public static final String LEASE_TIME = "60m";

  public record Reservation(String ip, String hostName) {}

  public DnsmasqConfig {
    Objects.requireNonNull(bridge);
    dnsServers = List.copyOf(dnsServers);
    upstreamServers = List.copyOf(upstreamServers);
    reservations = Map.copyOf(new TreeMap<>(reservations));
    names = Map.copyOf(new TreeMap<>(names));
    hostSets = Map.copyOf(new TreeMap<>(hostSets));
    classlessRoutes = List.copyOf(classlessRoutes);
  }

  public String daemonName() {
    return "dnsmasq-" + bridge;
  }

  /** The main config file; it names the host directories under {@code paths.config()}. */
  public String render(DaemonPaths paths) {
    List<String> lines = new ArrayList<>();
    lines.add("# written by zedrouter for " + bridge + "; replaced on every change");
    lines.add("except-interface=lo");
    lines.add("bind-interfaces");
    lines.add("interface=" + bridge);
    lines.add("listen-address=" + gateway);
    lines.add("no-hosts");
    lines.add("no-ping");
    // numbered queries and answers: zedrouter's DNS log of the apps reads them from the output
    lines.add("log-queries=extra");
    lines.add("bogus-priv");
    lines.add("dhcp-authoritative");
    lines.add("dhcp-ttl=600");
    lines.add("neg-ttl=10");
    lines.add("pid-file=" + paths.run().resolve("dnsmasq.pid"));
    lines.add("dhcp-leasefile=" + paths.state().resolve("leases"));
    lines.add("hostsdir=" + hostsDir(paths));
    lines.add("dhcp-hostsdir=" + dhcpHostsDir(paths));
    // the uplink's servers in a file of its own: dnsmasq rereads it on change (inotify), so a DHCP
    // renewal or a failover to a port with other servers does not restart the NI's DHCP and DNS
    lines.add("resolv-file=" + upstreamFile(paths));
    hostSets.forEach((host, set) -> lines.add("nftset=/" + host + "/4#inet#" + nftTable + "#" + set));
    lines.add("dhcp-range=" + rangeStart + "," + rangeEnd + "," + netmask + "," + LEASE_TIME);
    // an empty option is sent empty: the app gets no router rather than the bridge
    lines.add("dhcp-option=option:router" + router.map(r -> "," + r).orElse(""));
    lines.add("dhcp-option=option:dns-server," + (dnsServers.isEmpty() ? gateway : String.join(",", dnsServers)));
    if (!domain.isEmpty()) {
      lines.add("domain=" + domain);
    }
    lines.add("dhcp-option=option:mtu," + mtu);
    if (!classlessRoutes.isEmpty()) {
      lines.add("dhcp-option=option:classless-static-route," + String.join(",",
          classlessRoutes.stream().map(r -> r.getKey() + "," + r.getValue()).toList()));
    }
    return String.join("\n", lines) + "\n";
  }

  /** The {@code resolv-file}: the upstream servers, or none (an air-gapped NI answers only its own names). */
  public String upstreamResolvConf() {
    StringBuilder text = new StringBuilder("# written by zedrouter for " + bridge + ": the uplink's DNS servers\n");
    upstreamServers.forEach(server -> text.append("nameserver ").append(server).append('\n'));
    return text.toString();
  }

  public static Path upstreamFile(DaemonPaths paths) {
    return paths.config().resolve("upstream-resolv.conf");
  }

  /** Files of {@code dhcp-hostsdir}: one per MAC. */
  public Map<String, String> dhcpHostFiles() {
    Map<String, String> files = new TreeMap<>();
    reservations.forEach((mac, r) -> files.put(mac.replace(':', '-'), mac + ",id:*," + r.ip()
        + (r.hostName().isEmpty() ? "" : "," + r.hostName()) + "\n"));
    return files;
  }

  /** Files of {@code hostsdir}: one per name. */
  public Map<String, String> hostFiles() {
    Map<String, String> files = new TreeMap<>();
    names.forEach((name, addresses) -> {
      StringBuilder text = new StringBuilder();
      addresses.forEach(a -> text.append(a).append(' ').append(name).append('\n'));
      files.put(name, text.toString());
    });
    return files;
  }

  public static Path hostsDir(DaemonPaths paths) {
    return paths.config().resolve("hosts");
  }

  public static Path dhcpHostsDir(DaemonPaths paths) {
    return paths.config().resolve("dhcp-hosts");
  }

  /** A DNS label from an app's display name: what dnsmasq accepts as a host name. */
  static String hostName(String displayName) {
    String name = displayName.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
    return name.length() > 63 ? name.substring(0, 63) : name;
  }

  /** The config of a local NI and the VIFs on it. */
  public static DnsmasqConfig of(NiSpec ni, List<VifPlan> vifs) {
    NiSpec.LocalIp ip = ni.ip().orElseThrow();
    Map<String, Reservation> reservations = new TreeMap<>();
    Map<String, List<String>> names = new TreeMap<>();
    names.put("router", List.of(ip.gateway().getHostAddress()));
    Map<String, String> hostSets = new TreeMap<>();
    for (VifPlan vif : vifs) {
      String name = hostName(vif.appName());
      vif.ip().ifPresent(a -> {
        reservations.put(vif.mac().toString(), new Reservation(a.getHostAddress(), name));
        if (!name.isEmpty()) {
          names.merge(name, List.of(a.getHostAddress()), (x, y) -> {
            List<String> all = new ArrayList<>(x);
            all.addAll(y);
            return all;
          });
        }
      });
      vif.acls().forEach(acl -> acl.matches().stream().filter(m -> m instanceof Acl.HostMatch)
          .forEach(m -> hostSets.put(((Acl.HostMatch) m).host(), NiFirewall.hostSet(((Acl.HostMatch) m).host()))));
    }
    ip.staticDns().forEach(e -> names.put(e.hostName(), e.addresses()));
    List<String> upstream = ni.uplink().port().<List<String>>map(p -> List.copyOf(p.getDnsServersList())).orElse(List.of());
    Optional<String> router = ni.uplink().port().filter(p -> p.getGatewaysCount() > 0)
        .map(p -> ip.gateway().getHostAddress());
    return new DnsmasqConfig(ni.bridge(), ip.gateway().getHostAddress(), ip.rangeStart().getHostAddress(),
        ip.rangeEnd().getHostAddress(), Ipv4.netmask(ip.subnet().length()), router, ip.domain(), ip.dnsServers(),
        upstream, ni.mtu(), reservations, names, hostSets, NiFirewall.tableRef(ni.bridge()).name(),
        classlessRoutes(ni, router));
  }

  /**
   * EVE's option 121: a route through an app of the NI goes to that app, any other to the NI's
   * gateway (the device forwards it on); with a router, the default route ends the list.
   */
  static List<Map.Entry<String, String>> classlessRoutes(NiSpec ni, Optional<String> router) {
    List<NiSpec.StaticRoute> routes = NiGraph.installableRoutes(ni);
    if (routes.isEmpty()) {
      return List.of();
    }
    NiSpec.LocalIp ip = ni.ip().orElseThrow();
    List<Map.Entry<String, String>> entries = new ArrayList<>();
    for (NiSpec.StaticRoute route : routes) {
      String hop = ip.subnet().contains(route.gateway()) ? route.gateway().getHostAddress() : ip.gateway().getHostAddress();
      entries.add(Map.entry(route.destination().toString(), hop));
    }
    router.ifPresent(r -> entries.add(Map.entry("0.0.0.0/0", r)));
    return entries;
  }
}
