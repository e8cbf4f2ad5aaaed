package dev.verge.cli;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request to stop: the command closes what it runs on its own thread, logs
 * it and exits 0 (a JVM left to its default handler would exit 143 from inside a shutdown hook).
 */
final class StopSignal {
  private final CountDownLatch requested = new CountDownLatch(1);
  private volatile String received = "";

  private StopSignal() {}

  static StopSignal install() {
    StopSignal stop = new StopSignal();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> stop.request("SIG" + signal.getName()));
    }
    return stop;
  }

  void request(String why) {
    received = why;
    requested.countDown();
  }

  /** Waits at most {@code timeout} for a stop signal; true when one has arrived (nothing is logged). */
  boolean requested(java.time.Duration timeout) throws InterruptedException {
    return requested.await(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** The signal that asked to stop, e.g. "SIGTERM"; empty before one arrived. */
  String received() {
    return received;
  }

  /** Blocks until a stop signal arrives; returns its name and logs it. */
  String await(Logger log, String what) throws InterruptedException {
    requested.await();
    log.info("{} stopping on {}", what, received);
    return received;
  }
}
