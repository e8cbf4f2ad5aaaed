package dev.verge.hostos.internal;

import org.slf4j.Logger;

/**
 * Where the host layer reports a listener (event subscriber, daemon or DHCP listener) that threw.
 * The delivering thread logs it and goes on, since one listener's bug must not stop events for the
 * others; the failure is also handed to the JVM's default uncaught exception handler, if one is
 * installed, without ending the thread. Tests install one (the test kit's UncaughtFailures), so an
 * assertion made in a callback fails the test instead of being lost in a log. The same rule as the
 * agent loops' (pubsub's LoopFailures), which hostos cannot depend on.
 */
public final class ListenerFailures {
  private ListenerFailures() {}

  /** Logs the failure with its context and passes it to the default uncaught handler. */
  public static void report(Logger log, String context, Throwable failure) {
    log.error("{} failed", context, failure);
    Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
    if (handler != null) {
      try {
        handler.uncaughtException(Thread.currentThread(), failure);
      } catch (RuntimeException ignored) {
        // the reporter must never take the delivering thread down
      }
    }
  }
}
