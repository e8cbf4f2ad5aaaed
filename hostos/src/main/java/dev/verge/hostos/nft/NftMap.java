package dev.verge.hostos.nft;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A named map from typed keys to values of {@code dataType}; a verdict map when that is {@link
 * DataType#VERDICT} ({@code tcp dport vmap @ports}). Entries are kept in key order.
 */
public record NftMap(
    String name, List<DataType> keyType, DataType dataType, Set<SetFlag> flags, List<MapElement> elements) {
  public NftMap {
    Objects.requireNonNull(name);
    keyType = List.copyOf(keyType);
    Objects.requireNonNull(dataType);
    flags = flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    elements = elements.stream().sorted(MapElement.BY_KEY).toList();
  }

  public static NftMap verdicts(String name, DataType keyType, MapElement... elements) {
    return new NftMap(name, List.of(keyType), DataType.VERDICT, Set.of(), List.of(elements));
  }

  public static NftMap of(String name, DataType keyType, DataType dataType, MapElement... elements) {
    return new NftMap(name, List.of(keyType), dataType, Set.of(), List.of(elements));
  }

  public NftMap withElements(List<MapElement> newElements) {
    return new NftMap(name, keyType, dataType, flags, newElements);
  }
}
