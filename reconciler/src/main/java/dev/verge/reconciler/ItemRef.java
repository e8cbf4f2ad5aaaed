package dev.verge.reconciler;

import java.util.Comparator;
import java.util.Objects;

/** Global identity of an item: its type plus a name unique within the type. Ordered by type, then name. */
public record ItemRef(String type, String name) implements Comparable<ItemRef> {
  private static final Comparator<ItemRef> ORDER =
      Comparator.comparing(ItemRef::type).thenComparing(ItemRef::name);

  public ItemRef {
    Objects.requireNonNull(type, "item type");
    Objects.requireNonNull(name, "item name");
  }

  public static ItemRef of(String type, String name) {
    return new ItemRef(type, name);
  }

  @Override
  public int compareTo(ItemRef other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return type + "/" + name;
  }
}
