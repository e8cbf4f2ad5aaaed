package dev.verge.zedagent;

import java.time.Duration;

/**
 * What the local API gives a client before it gives up on it: the API sits on a LAN the operator
 * does not control, so a slow, silent or guessing client must not take it from the operator.
 *
 * @param maxConnections connections served at once; more are closed at once
 * @param requestTimeout a request must arrive whole (headers and body) within this, from its first byte
 * @param idleTimeout a connection with no request in progress is closed after this
 * @param maxBodyBytes largest request body
 * @param failedAuthBurst failed authentications a client may make at once...
 * @param failedAuthPerSecond ...and then per second (slows token guessing; never blocks the token holder)
 * @param authorizedBurst authenticated requests a client may make at once...
 * @param authorizedPerSecond ...and then per second
 * @param auditMaxBytes the audit log rotates above this size
 * @param auditFiles rotated audit files kept (besides the current one)
 */
public record LocalApiLimits(
    int maxConnections,
    Duration requestTimeout,
    Duration idleTimeout,
    int maxBodyBytes,
    int failedAuthBurst,
    double failedAuthPerSecond,
    int authorizedBurst,
    double authorizedPerSecond,
    long auditMaxBytes,
    int auditFiles) {

  public static final LocalApiLimits DEFAULT =
      new LocalApiLimits(32, Duration.ofSeconds(5), Duration.ofSeconds(30), 1 << 20, 5, 0.5, 20, 5.0, 1 << 20, 3);

  public LocalApiLimits {
    if (maxConnections < 1 || maxBodyBytes < 1 || failedAuthBurst < 1 || authorizedBurst < 1 || auditFiles < 1
        || auditMaxBytes < 1024) {
      throw new IllegalArgumentException("bad local API limits: " + this);
    }
  }

  public LocalApiLimits withRequestTimeout(Duration timeout) {
    return new LocalApiLimits(maxConnections, timeout, idleTimeout, maxBodyBytes, failedAuthBurst,
        failedAuthPerSecond, authorizedBurst, authorizedPerSecond, auditMaxBytes, auditFiles);
  }

  public LocalApiLimits withMaxConnections(int connections) {
    return new LocalApiLimits(connections, requestTimeout, idleTimeout, maxBodyBytes, failedAuthBurst,
        failedAuthPerSecond, authorizedBurst, authorizedPerSecond, auditMaxBytes, auditFiles);
  }

  public LocalApiLimits withAudit(long maxBytes, int files) {
    return new LocalApiLimits(maxConnections, requestTimeout, idleTimeout, maxBodyBytes, failedAuthBurst,
        failedAuthPerSecond, authorizedBurst, authorizedPerSecond, maxBytes, files);
  }

  public LocalApiLimits withRates(int failedBurst, double failedPerSecond, int authorized, double authorizedRate) {
    return new LocalApiLimits(maxConnections, requestTimeout, idleTimeout, maxBodyBytes, failedBurst,
        failedPerSecond, authorized, authorizedRate, auditMaxBytes, auditFiles);
  }
}
