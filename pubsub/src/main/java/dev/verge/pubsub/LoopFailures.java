package dev.verge.pubsub;

import org.slf4j.Logger;

/**
 * Where an agent loop reports a task or handler that threw. The loop logs it and goes on (an
 * agent must survive its own bugs); the failure is also handed to the JVM's default uncaught
 * exception handler, if one is installed, without ending the thread. Tests install one (the test
 * kit's {@code UncaughtFailures}), so an assertion or a bug on a loop thread fails the test that
 * caused it instead of being lost in a log.
 */
public final class LoopFailures {
  private LoopFailures() {}

  /**
   * Logs the failure as an error with its context and passes it to the default uncaught handler.
   *
   * @param log the caller's logger
   * @param context what was running, e.g. "agent loop nim: task" or "topic nim/X key eth0: handler"
   */
  public static void report(Logger log, String context, Throwable failure) {
    log.error("{} failed", context, failure);
    Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
    if (handler != null) {
      try {
        handler.uncaughtException(Thread.currentThread(), failure);
      } catch (RuntimeException ignored) {
        // the reporter must never take the loop down
      }
    }
  }
}
