package dev.verge.hostos;

/**
 * VLANs to add to a bridge port or bridge: {@code first..last} with the same flags, as one
 * {@code bridge vlan add vid FIRST-LAST} does.
 *
 * @param pvid makes the VLAN the port's PVID; only for a single VLAN (the kernel refuses a range)
 */
public record BridgeVlanRange(int first, int last, boolean pvid, boolean untagged) {
  public BridgeVlanRange {
    requireVid(first);
    requireVid(last);
    if (last < first) {
      throw new IllegalArgumentException("VLAN range " + first + "-" + last + " is empty");
    }
    if (pvid && first != last) {
      throw new IllegalArgumentException("a PVID is one VLAN, not the range " + first + "-" + last);
    }
  }

  /** One tagged VLAN. */
  public static BridgeVlanRange tagged(int vid) {
    return new BridgeVlanRange(vid, vid, false, false);
  }

  /** Tagged VLANs first..last. */
  public static BridgeVlanRange tagged(int first, int last) {
    return new BridgeVlanRange(first, last, false, false);
  }

  /** The access VLAN of a port: PVID and untagged. */
  public static BridgeVlanRange access(int vid) {
    return new BridgeVlanRange(vid, vid, true, true);
  }

  static void requireVid(int vid) {
    if (vid < 1 || vid > 4094) {
      throw new IllegalArgumentException("VLAN id " + vid + " out of 1..4094");
    }
  }

  @Override
  public String toString() {
    return (first == last ? "vid " + first : "vids " + first + "-" + last) + (pvid ? " pvid" : "")
        + (untagged ? " untagged" : "");
  }
}
