package dev.verge.zedrouter;

import dev.verge.hostos.BridgeVlanRange;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * A switch NI port's VLANs through bridge VLAN filtering, EVE's model: an access port carries one
 * VLAN, untagged both ways; a trunk carries VLAN 1 untagged (native) and its VLANs tagged.
 */
public sealed interface SwitchVlan {
  /** EVE's valid VLAN ids (1 is the bridge's default, 4094 reserved). */
  int FIRST_VID = 2;
  int LAST_VID = 4093;

  /** The VLANs the port is to have, exactly (the configurator removes any other). */
  List<BridgeVlanRange> ranges();

  /** Frames of the app are untagged and belong to {@code vid}. */
  record Access(int vid) implements SwitchVlan {
    public Access {
      if (vid < FIRST_VID || vid > LAST_VID) {
        throw new IllegalArgumentException("access VLAN " + vid + " is not in " + FIRST_VID + ".." + LAST_VID);
      }
    }

    @Override
    public List<BridgeVlanRange> ranges() {
      return List.of(BridgeVlanRange.access(vid));
    }
  }

  /** Tagged frames of {@code vids} (empty: every VLAN) and untagged ones of VLAN 1. */
  record Trunk(SortedSet<Integer> vids) implements SwitchVlan {
    public static final Trunk ALL = new Trunk(new TreeSet<>());

    public Trunk {
      vids = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(vids));
      vids.forEach(v -> {
        if (v < FIRST_VID || v > LAST_VID) {
          throw new IllegalArgumentException("trunk VLAN " + v + " is not in " + FIRST_VID + ".." + LAST_VID);
        }
      });
    }

    public boolean all() {
      return vids.isEmpty();
    }

    @Override
    public List<BridgeVlanRange> ranges() {
      List<BridgeVlanRange> ranges = new ArrayList<>();
      ranges.add(BridgeVlanRange.access(1));
      if (all()) {
        ranges.add(BridgeVlanRange.tagged(FIRST_VID, LAST_VID));
      } else {
        vids.forEach(v -> ranges.add(BridgeVlanRange.tagged(v)));
      }
      return ranges;
    }
  }

  /**
   * The VLANs of a switch NI's uplink: a trunk of every VLAN its VIFs use (all, if a VIF is a trunk of
   * all), or empty when no VIF asks for a VLAN (then the bridge filters no VLANs at all, as EVE's).
   */
  static java.util.Optional<SwitchVlan> uplink(List<SwitchVlan> vifs) {
    boolean filtering = vifs.stream().anyMatch(v -> v instanceof Access || (v instanceof Trunk t && !t.all()));
    if (!filtering) {
      return java.util.Optional.empty();
    }
    if (vifs.stream().anyMatch(v -> v instanceof Trunk t && t.all())) {
      return java.util.Optional.of(Trunk.ALL);
    }
    SortedSet<Integer> union = new TreeSet<>();
    for (SwitchVlan v : vifs) {
      if (v instanceof Access a) {
        union.add(a.vid());
      } else {
        union.addAll(((Trunk) v).vids());
      }
    }
    return java.util.Optional.of(new Trunk(union));
  }
}
