package dev.verge.reconciler.internal;

import dev.verge.reconciler.Graph;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpLogEntry;
import dev.verge.reconciler.ReconcileException;
import dev.verge.reconciler.ReconcileMetrics;
import dev.verge.reconciler.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Immutable outcome of a run; the async handles stay live. */
final class StatusImpl implements Status {
  private final Graph newCurrentState;
  private final List<OpLogEntry> log;
  private final Optional<ReconcileException> error;
  private final AsyncOps async;
  private final ReconcileMetrics metrics;

  StatusImpl(Graph newCurrentState, List<OpLogEntry> log, List<Throwable> errors, AsyncOps async,
      ReconcileMetrics metrics) {
    this.newCurrentState = newCurrentState;
    this.log = log;
    this.error = errors.isEmpty() ? Optional.empty() : Optional.of(new ReconcileException(errors));
    this.async = async;
    this.metrics = metrics;
  }

  static StatusImpl empty(Graph current, long startNanos) {
    return new StatusImpl(current, List.of(), List.of(), null, quietMetrics(startNanos));
  }

  static StatusImpl failed(Graph current, Throwable error, long startNanos) {
    return new StatusImpl(current, List.of(), List.of(error), null, quietMetrics(startNanos));
  }

  private static ReconcileMetrics quietMetrics(long startNanos) {
    return new ReconcileMetrics(Duration.ofNanos(System.nanoTime() - startNanos), Map.of(), new TreeMap<>(),
        0, 0, 0, 0, true);
  }

  @Override
  public Optional<ReconcileException> error() {
    return error;
  }

  @Override
  public Graph newCurrentState() {
    return newCurrentState;
  }

  @Override
  public List<OpLogEntry> operationLog() {
    return log;
  }

  @Override
  public boolean asyncOpsInProgress() {
    return async != null;
  }


  @Override
  public void cancelAsyncOps(Predicate<ItemRef> which) {
    if (async != null) {
      async.cancel(which);
    }
  }

  @Override
  public boolean waitForAsyncOps(Predicate<ItemRef> which, Duration timeout) throws InterruptedException {
    return async == null || async.await(which, timeout);
  }

  @Override
  public ReconcileMetrics metrics() {
    return metrics;
  }

  @Override
  public String toString() {
    return "Status[ops=" + log + ", error=" + error.map(Throwable::getMessage).orElse("none") + "]";
  }
}
