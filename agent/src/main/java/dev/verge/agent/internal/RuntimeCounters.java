package dev.verge.agent.internal;

import dev.verge.reconciler.ReconcileMetrics;
import dev.verge.topics.v1.AgentMetrics;
import dev.verge.topics.v1.OperationCount;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/** What the runtime counts for an agent. Written on the loop; the run count is read anywhere. */
public final class RuntimeCounters {
  private record OpKey(String type, String operation, String result) implements Comparable<OpKey> {
    @Override
    public int compareTo(OpKey o) {
      int c = type.compareTo(o.type);
      c = c != 0 ? c : operation.compareTo(o.operation);
      return c != 0 ? c : result.compareTo(o.result);
    }
  }

  private final AtomicLong reconcileRuns = new AtomicLong();
  private final Map<OpKey, Long> operations = new TreeMap<>();
  private double lastMs;
  private double maxMs;
  private double totalMs;
  private long kernelEvents;
  private long inputChanges;
  private long handlerErrors;
  private long intentErrors;
  private long retries;

  public long reconcileRuns() {
    return reconcileRuns.get();
  }

  public void reconciled(ReconcileMetrics metrics, double millis) {
    reconcileRuns.incrementAndGet();
    lastMs = millis;
    maxMs = Math.max(maxMs, millis);
    totalMs += millis;
    metrics.operations().forEach(
        (key, count) ->
            operations.merge(
                new OpKey(key.itemType(), key.operation().name(), key.result().name()),
                (long) count, Long::sum));
  }

  public void kernelEvents(int n) {
    kernelEvents += n;
  }

  public void inputChange() {
    inputChanges++;
  }

  public void handlerError() {
    handlerErrors++;
  }

  public void intentError() {
    intentErrors++;
  }

  public void retry() {
    retries++;
  }

  public AgentMetrics toMessage(String agent, int failedItems, int asyncInFlight, int currentItems) {
    AgentMetrics.Builder m =
        AgentMetrics.newBuilder()
            .setAgent(agent)
            .setReconcileRuns(reconcileRuns.get())
            .setLastReconcileMs(lastMs)
            .setMaxReconcileMs(maxMs)
            .setTotalReconcileMs(totalMs)
            .setFailedItems(failedItems)
            .setAsyncOpsInFlight(asyncInFlight)
            .setCurrentItems(currentItems)
            .setKernelEvents(kernelEvents)
            .setInputChanges(inputChanges)
            .setHandlerErrors(handlerErrors)
            .setIntentErrors(intentErrors)
            .setRetries(retries);
    operations.forEach(
        (key, count) ->
            m.addOperations(
                OperationCount.newBuilder()
                    .setItemType(key.type())
                    .setOperation(key.operation())
                    .setResult(key.result())
                    .setCount(count)));
    return m.build();
  }
}
