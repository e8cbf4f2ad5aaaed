package dev.verge.reconciler;

/**
 * Applies one item type to the system. Throwing (any exception) reports the operation as failed.
 * An operation may go on in the background via {@link OpContext#continueInBackground()}.
 */
public interface Configurator {
  void create(OpContext ctx, Item item) throws Exception;

  void modify(OpContext ctx, Item oldItem, Item newItem) throws Exception;

  void delete(OpContext ctx, Item item) throws Exception;

  /** Whether a change from {@code oldItem} to {@code newItem} needs Delete + Create instead of Modify. */
  default boolean needsRecreate(Item oldItem, Item newItem) {
    return false;
  }
}
