package dev.verge.reconciler;

import java.time.Instant;

/**
 * One operation run (or finished) during a reconcile.
 *
 * @param sequence monotonic number given when the operation started; the log is sorted by it
 * @param inProgress true while the operation continues in the background
 * @param error null on success
 * @param previousError the item's last error before this operation
 */
public record OpLogEntry(
    long sequence,
    Item item,
    Operation operation,
    Instant startTime,
    Instant endTime,
    Instant cancelTime,
    boolean inProgress,
    Throwable error,
    Throwable previousError) {

  public ItemRef ref() {
    return item.ref();
  }

  @Override
  public String toString() {
    return operation + " " + item.ref() + (inProgress ? " (in progress)" : "")
        + (error != null ? " failed: " + error.getMessage() : "");
  }
}
