package dev.verge.hostos.nft;

import java.util.Arrays;

/** An nftables address family: which packets a table's chains see. */
public enum NftFamily {
  IP("ip"),
  IP6("ip6"),
  INET("inet"),
  BRIDGE("bridge"),
  NETDEV("netdev");

  private final String nftName;

  NftFamily(String nftName) {
    this.nftName = nftName;
  }

  /** The name nft uses, e.g. {@code inet}. */
  public String nftName() {
    return nftName;
  }

  public static NftFamily of(String nftName) {
    return Arrays.stream(values())
        .filter(f -> f.nftName.equals(nftName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown nftables family " + nftName));
  }

  @Override
  public String toString() {
    return nftName;
  }
}
