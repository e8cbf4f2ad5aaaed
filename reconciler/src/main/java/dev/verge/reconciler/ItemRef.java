package dev.verge.reconciler;

import java.util.Objects;

/** Global identity of an item: its type plus a name unique within the type. Ordered by type, then name. */
public record ItemRef(String type, String name) implements Comparable<ItemRef> {
  public ItemRef {
    Objects.requireNonNull(type, "item type");
    Objects.requireNonNull(name, "item name");
  }

  public static ItemRef of(String type, String name) {
    return new ItemRef(type, name);
  }

  // equals, hashCode and compareTo are written out: they run on every graph lookup, and the
  // generated record methods and comparator chains cost noticeably more there.

  @Override
  public boolean equals(Object o) {
    // The name first: the type is shared by many items and so rarely tells two refs apart.
    return this == o || (o instanceof ItemRef r && name.equals(r.name) && type.equals(r.type));
  }

  @Override
  public int hashCode() {
    return 31 * type.hashCode() + name.hashCode(); // same value as the generated record hash
  }

  @Override
  public int compareTo(ItemRef other) {
    int c = type.compareTo(other.type);
    return c != 0 ? c : name.compareTo(other.name);
  }

  @Override
  public String toString() {
    return type + "/" + name;
  }
}
