package dev.verge.hostos;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;

/** What kind of link to create, with the settings of that kind. */
public sealed interface LinkSpec {
  /** The kernel's name for the kind ({@code IFLA_INFO_KIND}), as links report it. */
  String kind();

  /** The word for the kind in operation names ("create tap"). */
  default String noun() {
    return kind();
  }

  /** The kernel module that provides the kind, named in "kernel has no ... support" errors. */
  default String kernelModule() {
    return kind();
  }

  /** The link this one is stacked on (a VLAN's or macvlan's parent), if any. */
  default Optional<String> parent() {
    return Optional.empty();
  }

  /** A veth pair; the peer is created in the same namespace. */
  record Veth(String peerName) implements LinkSpec {
    public String kind() {
      return "veth";
    }
  }

  record Bridge(boolean vlanFiltering) implements LinkSpec {
    public String kind() {
      return "bridge";
    }

    @Override
    public String kernelModule() {
      return vlanFiltering ? "bridge VLAN filtering" : "bridge";
    }
  }

  /** An 802.1Q sub-interface of {@code parentName}. */
  record Vlan(String parentName, int vlanId) implements LinkSpec {
    public Vlan {
      if (vlanId < 1 || vlanId > 4094) {
        throw new IllegalArgumentException("VLAN id " + vlanId + " out of 1..4094");
      }
    }

    public String kind() {
      return "vlan";
    }

    @Override
    public String kernelModule() {
      return "8021q";
    }

    @Override
    public Optional<String> parent() {
      return Optional.of(parentName);
    }
  }

  enum BondMode {
    BALANCE_RR, ACTIVE_BACKUP, BALANCE_XOR, BROADCAST, LACP_802_3AD, BALANCE_TLB, BALANCE_ALB;

    /** The kernel's number for the mode (IFLA_BOND_MODE). */
    public int code() {
      return ordinal();
    }
  }

  enum LacpRate {
    SLOW, FAST
  }

  /** A bond; times in milliseconds, zero meaning off. */
  record Bond(
      BondMode mode,
      int miimon,
      int updelay,
      int downdelay,
      int arpInterval,
      List<Inet4Address> arpTargets,
      LacpRate lacpRate,
      Optional<String> primary)
      implements LinkSpec {
    public Bond {
      arpTargets = List.copyOf(arpTargets);
    }

    public static Bond of(BondMode mode) {
      return new Bond(mode, 100, 0, 0, 0, List.of(), LacpRate.SLOW, Optional.empty());
    }

    public String kind() {
      return "bond";
    }

    @Override
    public String kernelModule() {
      return "bonding";
    }
  }

  enum MacvlanMode {
    PRIVATE(1), VEPA(2), BRIDGE(4), PASSTHRU(8);

    private final int code;

    MacvlanMode(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }
  }

  record Macvlan(String parentName, MacvlanMode mode) implements LinkSpec {
    public String kind() {
      return "macvlan";
    }

    @Override
    public Optional<String> parent() {
      return Optional.of(parentName);
    }
  }

  record Macvtap(String parentName, MacvlanMode mode) implements LinkSpec {
    public String kind() {
      return "macvtap";
    }

    @Override
    public Optional<String> parent() {
      return Optional.of(parentName);
    }
  }

  record Vxlan(
      int vni,
      Optional<Inet4Address> local,
      Optional<Inet4Address> remote,
      int port,
      Optional<String> underlay)
      implements LinkSpec {
    public Vxlan {
      if (vni < 0 || vni >= 1 << 24) {
        throw new IllegalArgumentException("VNI " + vni + " out of 0..16777215");
      }
    }

    public String kind() {
      return "vxlan";
    }

    @Override
    public Optional<String> parent() {
      return underlay;
    }
  }

  record Dummy() implements LinkSpec {
    public String kind() {
      return "dummy";
    }
  }

  /** A VRF bound to a routing table. */
  record Vrf(int table) implements LinkSpec {
    public String kind() {
      return "vrf";
    }
  }

  /** A persistent tap device (created through /dev/net/tun, reported by the kernel as "tun"). */
  record Tap() implements LinkSpec {
    public String kind() {
      return "tun";
    }

    @Override
    public String noun() {
      return "tap";
    }

    @Override
    public String kernelModule() {
      return "tun";
    }
  }
}
