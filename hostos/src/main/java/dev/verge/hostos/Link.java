package dev.verge.hostos;

/**
 * A link as the kernel reports it.
 *
 * @param kind the {@code IFLA_INFO_KIND} ("veth", "bridge", "tun"...), empty for loopback
 * @param up administratively up (IFF_UP)
 * @param carrier the lower layer is up (IFF_LOWER_UP)
 * @param masterIndex the bridge, bond or VRF it is enslaved to, 0 if none
 * @param parentIndex the link it is stacked on (VLAN parent, veth peer), 0 if none; for a veth
 *     whose peer was moved to another namespace, the peer's index there
 */
public record Link(
    int index,
    String name,
    String kind,
    int mtu,
    MacAddress mac,
    boolean up,
    boolean carrier,
    int masterIndex,
    int parentIndex) {

  public boolean hasMaster() {
    return masterIndex != 0;
  }
}
