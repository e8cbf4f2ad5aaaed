package dev.verge.hostos;

/**
 * One VLAN of a bridge port (or of the bridge itself), as {@code bridge vlan show} lists it.
 *
 * @param pvid untagged frames that come in get this VLAN (at most one per port)
 * @param untagged frames of this VLAN leave the port without a tag
 */
public record BridgeVlan(int vid, boolean pvid, boolean untagged) {
  public BridgeVlan {
    BridgeVlanRange.requireVid(vid);
  }
}
