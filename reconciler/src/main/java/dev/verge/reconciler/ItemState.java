package dev.verge.reconciler;

/** State of an item in the current-state graph. The *ING states mean an async operation runs. */
public enum ItemState {
  UNKNOWN,
  CREATED,
  FAILURE,
  CREATING,
  DELETING,
  MODIFYING;

  public boolean inTransition() {
    return this == CREATING || this == DELETING || this == MODIFYING;
  }

  /** The operation an in-transition state stands for. */
  public Operation transitionOperation() {
    return switch (this) {
      case CREATING -> Operation.CREATE;
      case DELETING -> Operation.DELETE;
      case MODIFYING -> Operation.MODIFY;
      default -> Operation.UNKNOWN;
    };
  }
}
