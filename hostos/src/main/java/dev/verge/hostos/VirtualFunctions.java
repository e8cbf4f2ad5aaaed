package dev.verge.hostos;

import java.util.List;

/** SR-IOV VF attributes, set and read through the physical function's link. */
public interface VirtualFunctions {
  /** Applies the settings to VF {@code settings.vf()} of {@code pf}. */
  void setVf(String pf, VfSettings settings);

  /** The VFs the PF reports, by number; empty for a link without VFs. */
  List<VfSettings> vfs(String pf);
}
