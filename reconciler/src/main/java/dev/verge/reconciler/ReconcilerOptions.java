package dev.verge.reconciler;

import java.time.Duration;
import java.util.Objects;

/**
 * Reconciler settings.
 *
 * @param cancelTimeout how long a cancelled background operation may ignore the cancel before it is
 *     reported as failed
 * @param mockRun skip configurators and assume every operation succeeds (for dry runs and tests)
 * @param resumeListener told when background operations finished and the graph needs another run
 */
public record ReconcilerOptions(Duration cancelTimeout, boolean mockRun, ResumeListener resumeListener) {
  public static final ReconcilerOptions DEFAULT =
      new ReconcilerOptions(Duration.ofMinutes(1), false, ResumeListener.NONE);

  public ReconcilerOptions {
    Objects.requireNonNull(cancelTimeout, "cancelTimeout");
    Objects.requireNonNull(resumeListener, "resumeListener");
  }

  public ReconcilerOptions withCancelTimeout(Duration timeout) {
    return new ReconcilerOptions(timeout, mockRun, resumeListener);
  }

  public ReconcilerOptions withMockRun(boolean mock) {
    return new ReconcilerOptions(cancelTimeout, mock, resumeListener);
  }

  public ReconcilerOptions withResumeListener(ResumeListener listener) {
    return new ReconcilerOptions(cancelTimeout, mockRun, listener);
  }
}
