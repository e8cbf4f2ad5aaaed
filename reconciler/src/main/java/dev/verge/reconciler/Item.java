package dev.verge.reconciler;

import java.util.List;

/** A configuration item: one node of the dependency graph (a link, a route, a daemon...). */
public interface Item {
  String name();

  String type();

  /** Label shown in DOT output; defaults to the name. */
  default String label() {
    return name();
  }

  /**
   * Decides whether a transition is needed between two values of the same item. Equal items must
   * have equal dependencies.
   */
  boolean isEqual(Item other);

  /** External items are not managed by the reconciler; they only satisfy dependencies. */
  default boolean external() {
    return false;
  }

  /** All dependencies must be satisfied (AND) before the item can be created. */
  default List<Dependency> dependencies() {
    return List.of();
  }

  /** Human-readable description, used as the DOT tooltip. */
  default String describe() {
    return toString();
  }

  default ItemRef ref() {
    return ItemRef.of(type(), name());
  }
}
