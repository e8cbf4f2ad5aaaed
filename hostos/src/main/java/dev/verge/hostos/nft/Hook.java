package dev.verge.hostos.nft;

import java.util.Arrays;
import java.util.Locale;

/** A netfilter hook a base chain is attached to. */
public enum Hook {
  PREROUTING,
  INPUT,
  FORWARD,
  OUTPUT,
  POSTROUTING,
  INGRESS;

  public String nftName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Hook of(String nftName) {
    return Arrays.stream(values())
        .filter(h -> h.nftName().equals(nftName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown hook " + nftName));
  }
}
