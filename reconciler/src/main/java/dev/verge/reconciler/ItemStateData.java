package dev.verge.reconciler;

/**
 * State of an item in the current-state graph.
 *
 * @param externallyModified set by whoever updates an external item, so that dependents with
 *     {@code recreateWhenModified} are recreated; the reconciler resets it after the run
 */
public record ItemStateData(
    ItemState state, Operation lastOperation, Throwable lastError, boolean externallyModified) {

  /** What an item without state data counts as. */
  public static final ItemStateData CREATED = new ItemStateData(ItemState.CREATED, Operation.CREATE, null, false);

  public ItemStateData {
    state = state == null ? ItemState.UNKNOWN : state;
    lastOperation = lastOperation == null ? Operation.UNKNOWN : lastOperation;
  }

  public static ItemStateData of(ItemState state, Operation lastOperation) {
    return new ItemStateData(state, lastOperation, null, false);
  }

  /** Created, Modifying, or Failure after a Delete or a Modify (the old value is still there). */
  public boolean isCreated() {
    return state == ItemState.CREATED
        || state == ItemState.MODIFYING
        || (state == ItemState.FAILURE && lastOperation != Operation.CREATE);
  }

  public boolean inTransition() {
    return state.inTransition();
  }

  public ItemStateData withState(ItemState newState) {
    return new ItemStateData(newState, lastOperation, lastError, externallyModified);
  }

  public ItemStateData withExternallyModified(boolean flag) {
    return new ItemStateData(state, lastOperation, lastError, flag);
  }
}
