package dev.verge.reconciler;

/** An item that is a value (an immutable record): equal to another when their records are equal. */
public interface ValueItem extends Item {
  @Override
  default boolean isEqual(Item other) {
    return equals(other);
  }
}
