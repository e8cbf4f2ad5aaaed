package dev.verge.reconciler;

import java.time.Duration;

/**
 * Reconciler settings.
 *
 * @param cancelTimeout how long a cancelled background operation may ignore the cancel before it is
 *     reported as failed
 * @param mockRun skip configurators and assume every operation succeeds (for dry runs and tests)
 */
public record ReconcilerOptions(Duration cancelTimeout, boolean mockRun) {
  public static final ReconcilerOptions DEFAULT = new ReconcilerOptions(Duration.ofMinutes(1), false);

  public ReconcilerOptions withCancelTimeout(Duration timeout) {
    return new ReconcilerOptions(timeout, mockRun);
  }

  public ReconcilerOptions withMockRun(boolean mock) {
    return new ReconcilerOptions(cancelTimeout, mock);
  }
}
