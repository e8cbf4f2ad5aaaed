package dev.verge.reconciler;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/** Outcome of one reconcile run. */
public interface Status {
  /** All errors of the run (failed operations, rejected cycles...), joined. */
  Optional<ReconcileException> error();

  /** The current state after the run; null when the selected subgraph was removed. */
  Graph newCurrentState();

  /** Operations run or finished in this run, sorted by start. */
  List<OpLogEntry> operationLog();

  /**
   * True when operations go on in the background: when they finish, the {@link
   * ReconcilerOptions#resumeListener()} is told, and the next run records their results.
   */
  boolean asyncOpsInProgress();

  /** Cancels background operations of items matching the predicate (null: all). */
  void cancelAsyncOps(Predicate<ItemRef> which);

  /**
   * Waits until background operations of matching items (null: all) have finished.
   *
   * @return false on timeout
   */
  boolean waitForAsyncOps(Predicate<ItemRef> which, Duration timeout) throws InterruptedException;

  ReconcileMetrics metrics();
}
