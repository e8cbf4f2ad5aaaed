package dev.verge.agent;

import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpLogEntry;
import dev.verge.reconciler.ReconcileMetrics;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * What one reconcile did.
 *
 * @param reason what asked for it (an input, a kernel event, a retry...)
 * @param current the current state after the run
 * @param operations the operations run or finished, in order
 * @param failedItems every item whose last operation failed, with the host's error
 * @param intentError why the agent's intended state was rejected (the last good one was used)
 * @param metrics the reconciler's figures of the run
 * @param requestedNanos when the first of its reasons arose (for a kernel event: when the event
 *     reached the runtime from the kernel), on {@link System#nanoTime()}
 * @param startedNanos when the reconcile started, same clock
 * @param finishedNanos when it finished, same clock
 */
public record ReconcileOutcome(
    String reason,
    GraphR current,
    List<OpLogEntry> operations,
    SortedMap<ItemRef, String> failedItems,
    Optional<String> intentError,
    ReconcileMetrics metrics,
    long requestedNanos,
    long startedNanos,
    long finishedNanos) {

  /** True when everything intended exists and the intent was accepted. */
  public boolean clean() {
    return failedItems.isEmpty() && intentError.isEmpty();
  }
}
