package dev.verge.reconciler;

import java.util.function.Consumer;

/** What a configurator operation can see and do besides its item. */
public interface OpContext {
  /** Name of the (root) current-state graph. */
  String graphName();

  /**
   * Turns this operation asynchronous. The returned callback must be called exactly once when the
   * operation ends (null for success); the reconciler then tells its {@link ResumeListener}.
   */
  Consumer<Throwable> continueInBackground();

  /** True once the caller cancelled this (background) operation. */
  boolean isCancelled();

  /** Runs {@code action} when the operation is cancelled (at once if it already was). */
  void onCancel(Runnable action);
}
