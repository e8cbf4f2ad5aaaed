package dev.verge.reconciler;

import java.time.Duration;
import java.util.Map;
import java.util.SortedMap;

/**
 * Figures of one reconcile run, for agents to publish.
 *
 * @param operations operations run, by item type, operation and result
 * @param failedItems items whose operation failed in this run (or sit on a rejected cycle), with the error text
 * @param asyncOpsInFlight background operations still running after the run
 * @param graphSize items in the current-state graph after the run
 * @param seedItems items the run started from (differences, finished async operations, external dependents)
 * @param visitedItems item visits made by the run: the work done, proportional to the change
 * @param fullDiff whether the run had to diff the whole graphs (first run, new intent object, selection)
 */
public record ReconcileMetrics(
    Duration duration,
    Map<OperationKey, Integer> operations,
    SortedMap<ItemRef, String> failedItems,
    int asyncOpsInFlight,
    int graphSize,
    int seedItems,
    int visitedItems,
    boolean fullDiff) {

  /** Result of one operation. */
  public enum Result {
    SUCCEEDED,
    FAILED,
    IN_PROGRESS
  }

  /** Key of the operation counters. */
  public record OperationKey(String itemType, Operation operation, Result result) {}

  public int operationCount() {
    return operations.values().stream().mapToInt(Integer::intValue).sum();
  }
}
