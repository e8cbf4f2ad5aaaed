package dev.verge.agent;

import java.time.Duration;

/**
 * How the runtime paces an agent.
 *
 * @param debounce how long a reconcile waits after the change that asked for it, so a burst of
 *     changes becomes one run; short, since it adds to every reaction (e.g. to a lost carrier)
 * @param retryMin first wait before a failed item is tried again
 * @param retryMax longest wait between tries (doubling from {@code retryMin})
 * @param graphInterval how often the agent's graphs are republished when they changed (rendering
 *     DOT for a large graph costs more than a reconcile)
 * @param leftoverWait how long the links an earlier run left are kept for an intent that does not
 *     name all its links yet ({@link Agent#intentNamesAllItsLinks}); then those it does not name
 *     are removed all the same
 */
public record RuntimeSettings(
    Duration debounce, Duration retryMin, Duration retryMax, Duration graphInterval, Duration leftoverWait) {

  public static final RuntimeSettings DEFAULT =
      new RuntimeSettings(
          Duration.ofMillis(1), Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(2),
          Duration.ofSeconds(30));

  public RuntimeSettings {
    if (debounce.isNegative() || retryMin.isNegative() || retryMin.isZero()
        || retryMax.compareTo(retryMin) < 0 || graphInterval.isNegative() || graphInterval.isZero()
        || leftoverWait.isNegative()) {
      throw new IllegalArgumentException("bad runtime settings: " + debounce + ", " + retryMin + ".."
          + retryMax + ", " + graphInterval + ", " + leftoverWait);
    }
  }

  /** The wait before try number {@code attempt} (1-based). */
  public Duration retryDelay(int attempt) {
    long millis = retryMin.toMillis() << Math.min(attempt - 1, 20);
    return Duration.ofMillis(Math.min(millis, retryMax.toMillis()));
  }

  public RuntimeSettings withDebounce(Duration value) {
    return new RuntimeSettings(value, retryMin, retryMax, graphInterval, leftoverWait);
  }

  public RuntimeSettings withRetry(Duration min, Duration max) {
    return new RuntimeSettings(debounce, min, max, graphInterval, leftoverWait);
  }
}
