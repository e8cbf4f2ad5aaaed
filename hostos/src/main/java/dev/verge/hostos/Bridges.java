package dev.verge.hostos;

import java.util.List;

/**
 * Bridge ports and VLAN filtering ({@code bridge link}, {@code bridge vlan}). Kernels built without
 * CONFIG_BRIDGE_VLAN_FILTERING refuse every VLAN operation with EOPNOTSUPP, named as such.
 */
public interface Bridges {
  /** The reason given where the kernel lacks VLAN filtering. */
  String NO_VLAN_FILTERING =
      "kernel has no bridge VLAN filtering support (CONFIG_BRIDGE_VLAN_FILTERING is off)";

  /** Sets the flags given; EOPNOTSUPP if the link is not a bridge port. */
  void setBridgePort(String port, BridgePortSettings settings);

  /** The port's flags, every field present; EOPNOTSUPP if the link is not a bridge port. */
  BridgePortSettings bridgePort(String port);

  /** Turns VLAN filtering of a bridge on or off; EOPNOTSUPP for a link that is not a bridge. */
  void setVlanFiltering(String bridge, boolean on);

  boolean vlanFiltering(String bridge);

  /**
   * Adds VLANs to a bridge port, or to the bridge itself (its own "self" VLANs). A VLAN already
   * there takes the new flags; a new PVID takes the place of the old one. A port starts with VLAN 1
   * as PVID, untagged. EOPNOTSUPP for a link that is neither a bridge nor a bridge port.
   */
  void addBridgeVlans(String link, BridgeVlanRange vlans);

  /** Removes VLANs first..last, in order; ENOENT at the first that is not there. */
  void deleteBridgeVlans(String link, int first, int last);

  /** The VLANs of a bridge port or bridge, one entry per VLAN, by id. */
  List<BridgeVlan> bridgeVlans(String link);
}
