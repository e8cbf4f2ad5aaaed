package dev.verge.hostos.nft;

import java.util.Objects;

/** A table by family and name: {@code inet fw}. */
public record TableRef(NftFamily family, String name) {
  public TableRef {
    Objects.requireNonNull(family);
    Objects.requireNonNull(name);
  }

  public static TableRef of(NftFamily family, String name) {
    return new TableRef(family, name);
  }

  @Override
  public String toString() {
    return family.nftName() + " " + name;
  }
}
