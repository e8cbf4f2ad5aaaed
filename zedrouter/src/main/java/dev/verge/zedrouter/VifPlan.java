package dev.verge.zedrouter;

import dev.verge.hostos.MacAddress;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One app VIF as zedrouter allocated it: what domainmgr creates (name, MAC) and what zedrouter
 * serves it (IP lease, ACLs) on which NI's bridge.
 *
 * @param adapterNumber 1-based position among the app's network adapters (EVE's vifNum)
 * @param appNumber the app's persisted number
 * @param vifName {@code nbu<adapter>x<app>}, EVE's naming
 * @param ip the address DHCP reserves for it; empty on a switch NI
 * @param staticIp whether {@code ip} was configured rather than allocated
 * @param vlan its VLANs on a switch NI (a trunk of every VLAN unless configured); empty on a routed NI
 */
public record VifPlan(
    String appUuid,
    String appName,
    int appNumber,
    int adapterNumber,
    String adapterName,
    String niUuid,
    String bridge,
    String vifName,
    MacAddress mac,
    Optional<InetAddress> ip,
    boolean staticIp,
    int mtu,
    List<Acl> acls,
    Optional<SwitchVlan> vlan) {
  public VifPlan {
    Objects.requireNonNull(vifName);
    Objects.requireNonNull(mac);
    Objects.requireNonNull(ip);
    acls = List.copyOf(acls);
    Objects.requireNonNull(vlan);
  }

  public static String vifName(int adapterNumber, int appNumber) {
    return "nbu" + adapterNumber + "x" + appNumber;
  }
}
