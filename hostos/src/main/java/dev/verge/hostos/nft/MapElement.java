package dev.verge.hostos.nft;

import java.util.Comparator;
import java.util.Objects;

/** One entry of a map: a key and what it maps to. */
public record MapElement(Value key, MapData data) {
  public MapElement {
    Objects.requireNonNull(key);
    Objects.requireNonNull(data);
  }

  public static MapElement of(Value key, MapData data) {
    return new MapElement(key, data);
  }

  static final Comparator<MapElement> BY_KEY = Comparator.comparing(MapElement::key, Value.CANONICAL_ORDER);
}
