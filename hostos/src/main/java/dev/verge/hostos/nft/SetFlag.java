package dev.verge.hostos.nft;

import java.util.Arrays;
import java.util.Locale;

/** Set and map flags: interval (prefixes and ranges), constant, timeout. */
public enum SetFlag {
  CONSTANT,
  INTERVAL,
  TIMEOUT;

  public String nftName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static SetFlag of(String nftName) {
    return Arrays.stream(values())
        .filter(f -> f.nftName().equals(nftName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown set flag " + nftName));
  }
}
