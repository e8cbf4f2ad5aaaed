package dev.verge.hostos;

import java.util.Optional;

/**
 * Settings of one SR-IOV virtual function, made through its physical function (as {@code ip link
 * set <pf> vf <n> ...}). Empty fields are left as they are.
 *
 * @param vlan the VLAN the VF is put in (0 = none)
 */
public record VfSettings(
    int vf,
    Optional<MacAddress> mac,
    Optional<Integer> vlan,
    Optional<Boolean> spoofCheck,
    Optional<Boolean> trust,
    Optional<LinkState> linkState) {

  /** A VF's link state as the PF enforces it. */
  public enum LinkState {
    AUTO, ENABLE, DISABLE
  }

  public VfSettings {
    if (vf < 0) {
      throw new IllegalArgumentException("VF number " + vf + " is negative");
    }
    vlan.ifPresent(id -> {
      if (id < 0 || id > 4094) {
        throw new IllegalArgumentException("VLAN id " + id + " out of 0..4094");
      }
    });
  }

  public static VfSettings of(int vf) {
    return new VfSettings(vf, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
        Optional.empty());
  }

  public VfSettings withMac(MacAddress newMac) {
    return new VfSettings(vf, Optional.of(newMac), vlan, spoofCheck, trust, linkState);
  }

  public VfSettings withVlan(int id) {
    return new VfSettings(vf, mac, Optional.of(id), spoofCheck, trust, linkState);
  }

  public VfSettings withSpoofCheck(boolean on) {
    return new VfSettings(vf, mac, vlan, Optional.of(on), trust, linkState);
  }

  public VfSettings withTrust(boolean on) {
    return new VfSettings(vf, mac, vlan, spoofCheck, Optional.of(on), linkState);
  }

  public VfSettings withLinkState(LinkState state) {
    return new VfSettings(vf, mac, vlan, spoofCheck, trust, Optional.of(state));
  }

  /** Fields set here replace those of {@code base}. */
  public VfSettings over(VfSettings base) {
    return new VfSettings(vf, mac.or(base::mac), vlan.or(base::vlan), spoofCheck.or(base::spoofCheck),
        trust.or(base::trust), linkState.or(base::linkState));
  }
}
