package dev.verge.nim;

import dev.verge.hostos.Link;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The config of last resort (EVE's {@code lastresort}): a DHCP client on every Ethernet port that
 * is present, not enslaved and not given to an app, all as management ports of cost 0. Tried only
 * after every other config failed, or when there is no other.
 */
public final class LastResort {
  private LastResort() {}

  /** Whether a link counts as an Ethernet port of the device (a veth stands for one in a namespace). */
  public static boolean isEthernet(Link link) {
    return (link.kind().isEmpty() || link.kind().equals("veth"))
        && !link.name().equals("lo")
        && !link.hasMaster()
        && !link.name().startsWith("keth")
        && !link.name().startsWith("vif")
        && !link.name().startsWith("nbu")
        && !link.name().startsWith("nbo")
        && !link.name().startsWith("wlan")
        && !link.name().startsWith("wwan");
  }

  /**
   * @param links the links the kernel has now
   * @param assignedToApps interface names of ports given to apps (passthrough), never touched
   */
  public static PortConfig of(Collection<Link> links, Set<String> assignedToApps) {
    List<Port> ports = links.stream()
        .filter(LastResort::isEthernet)
        .filter(l -> !assignedToApps.contains(l.name()))
        .map(l -> new Port(l.name(), l.name(), Port.Kind.ETHERNET, Optional.empty(), Optional.empty(),
            Optional.empty(), Port.Usage.MANAGEMENT, 0, new Port.Addressing.Dhcp(), List.of(), 0, false))
        .sorted(java.util.Comparator.comparing(Port::ifName))
        .toList();
    return new PortConfig(PortConfig.LAST_RESORT, 0, ports, new TreeMap<>());
  }
}
