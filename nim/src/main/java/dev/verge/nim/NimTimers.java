package dev.verge.nim;

import java.time.Duration;
import java.util.Map;

/**
 * nim's timers, from the controller's config items (EVE's names where EVE has them).
 *
 * @param testDuration EVE's {@code timer.port.testduration}: how long a config may wait for its
 *     ports to get addresses is 5 times this
 * @param probeInterval how often the port in use is probed (EVE tests every 300 s at least; here
 *     a cheap probe, {@code timer.port.probeinterval})
 * @param probeTimeout one probe's budget ({@code timer.port.timeout})
 * @param testBetterInterval how often a better config is tried while a worse one is in use
 *     ({@code timer.port.testbetterinterval}; 0: never)
 * @param holdDown how long a better port must stay up before traffic returns to it (anti-flap)
 * @param cooldown a config that failed is not tried again this soon (EVE: 5 minutes)
 * @param standbyProbeInterval how often a management port not in use is probed, so a failover
 *     goes to a backup known to work ({@code timer.port.standbyprobeinterval})
 * @param meteredProbeInterval the same for a metered port (cost > 0: cellular and the like, where
 *     every probe costs money), much rarer ({@code timer.port.meteredprobeinterval}; EVE probes its
 *     cellular modems every 5 minutes)
 */
public record NimTimers(
    Duration testDuration, Duration probeInterval, Duration probeTimeout, Duration testBetterInterval,
    Duration holdDown, Duration cooldown, Duration standbyProbeInterval, Duration meteredProbeInterval) {
  /**
   * Defaults. The port in use is probed every 2 s with a 1 s budget: an upstream that silently
   * drops everything is left after two misses in a row, ≈3 s on average and 4 s at worst (the
   * issue's budget is 5 s; with 10 s and 3 s it took 16 s). The price is one TCP handshake to the
   * controller every 2 s per device, and a link with round trips near 1 s (satellite, a congested
   * cellular cell) needs {@code timer.port.timeout} raised, or its probes miss and it is left for
   * a backup that answers.
   */
  public static final NimTimers DEFAULT = new NimTimers(Duration.ofSeconds(30), Duration.ofSeconds(2),
      Duration.ofSeconds(1), Duration.ofSeconds(600), Duration.ofSeconds(2), Duration.ofMinutes(5),
      Duration.ofSeconds(30), Duration.ofMinutes(5));

  /** How long a config waits for its ports' addresses before it has failed (EVE: 5 × TD). */
  public Duration addressWait() {
    return testDuration.multipliedBy(5);
  }

  /** Reads the config items; a bad value is ignored (and named in {@code errors}). */
  public static NimTimers from(Map<String, String> items, Map<String, String> errors) {
    return new NimTimers(
        seconds(items, "timer.port.testduration", DEFAULT.testDuration, 1, 3600, errors),
        seconds(items, "timer.port.probeinterval", DEFAULT.probeInterval, 1, 3600, errors),
        seconds(items, "timer.port.timeout", DEFAULT.probeTimeout, 1, 300, errors),
        seconds(items, "timer.port.testbetterinterval", DEFAULT.testBetterInterval, 0, 86400, errors),
        DEFAULT.holdDown, DEFAULT.cooldown,
        seconds(items, "timer.port.standbyprobeinterval", DEFAULT.standbyProbeInterval, 1, 86400, errors),
        seconds(items, "timer.port.meteredprobeinterval", DEFAULT.meteredProbeInterval, 1, 86400, errors));
  }

  private static Duration seconds(Map<String, String> items, String key, Duration fallback, long min, long max,
      Map<String, String> errors) {
    String text = items.get(key);
    if (text == null) {
      return fallback;
    }
    try {
      long value = Long.parseLong(text.trim());
      if (value < min || value > max) {
        errors.put(key, key + " = " + value + " is out of " + min + ".." + max + " seconds; using " + fallback.toSeconds());
        return fallback;
      }
      return Duration.ofSeconds(value);
    } catch (NumberFormatException e) {
      errors.put(key, key + " = '" + text + "' is not a number of seconds; using " + fallback.toSeconds());
      return fallback;
    }
  }

  public NimTimers withProbeInterval(Duration value) {
    return new NimTimers(testDuration, value, probeTimeout, testBetterInterval, holdDown, cooldown,
        standbyProbeInterval, meteredProbeInterval);
  }

  /** How often a management port that does not carry controller traffic is probed. */
  public Duration standbyInterval(Port port) {
    return port.isMetered() ? meteredProbeInterval : standbyProbeInterval;
  }
}
