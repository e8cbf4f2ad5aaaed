package dev.verge.hostos.nft;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A named set: a typed key (several types for a concatenation) and its elements, kept in a canonical
 * order. Prefixes and ranges need the {@code interval} flag.
 */
public record NftSet(String name, List<DataType> keyType, Set<SetFlag> flags, List<Value> elements) {
  public NftSet {
    Objects.requireNonNull(name);
    keyType = List.copyOf(keyType);
    if (keyType.isEmpty()) {
      throw new IllegalArgumentException("set " + name + " needs a key type");
    }
    flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    elements = Value.canonical(elements);
  }

  public static NftSet of(String name, DataType type, Value... elements) {
    return new NftSet(name, List.of(type), Set.of(), List.of(elements));
  }

  public static NftSet intervals(String name, DataType type, Value... elements) {
    return new NftSet(name, List.of(type), Set.of(SetFlag.INTERVAL), List.of(elements));
  }

  public NftSet withElements(List<Value> newElements) {
    return new NftSet(name, keyType, flags, newElements);
  }
}
