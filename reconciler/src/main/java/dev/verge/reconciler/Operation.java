package dev.verge.reconciler;

/** An operation the reconciler runs through a configurator. */
public enum Operation {
  UNKNOWN,
  CREATE,
  MODIFY,
  DELETE
}
