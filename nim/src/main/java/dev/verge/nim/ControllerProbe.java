package dev.verge.nim;

import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Tests whether the controller is reachable out of one port, from the port's own address (so the
 * port's routing table carries it, whatever the main table prefers). Answers on any thread; nim
 * moves the answer onto its loop.
 */
public interface ControllerProbe {
  void probe(Request request, Consumer<Result> done);

  /**
   * @param timeout the whole test's budget
   * @param proxy the port's proxy: the test goes through it (unless the controller is an exception)
   * @param verify a config's verification (the controller's TLS identity is checked too), not
   *     the cheap liveness probe of a port already verified
   */
  record Request(String label, String ifName, InetAddress source, Duration timeout, java.util.Optional<Port.Proxy> proxy,
      boolean verify) {
    public Request(String label, String ifName, InetAddress source, Duration timeout) {
      this(label, ifName, source, timeout, java.util.Optional.empty(), false);
    }

    static Request of(Port port, InetAddress source, Duration timeout) {
      return new Request(port.label(), port.ifName(), source, timeout, port.proxy(), false);
    }

    static Request verification(Port port, InetAddress source, Duration timeout) {
      return new Request(port.label(), port.ifName(), source, timeout, port.proxy(), true);
    }
  }

  /** @param error why it failed, empty on success */
  record Result(boolean ok, String error, Duration roundTrip) {
    public static Result success(Duration roundTrip) {
      return new Result(true, "", roundTrip);
    }

    public static Result failure(String error) {
      return new Result(false, error, Duration.ZERO);
    }
  }

  /**
   * For a node on the sim host, where no packet can reach a controller: a port that is up with
   * carrier and an address counts as working (nim checked that before asking).
   */
  static ControllerProbe localChecksOnly() {
    return (request, done) -> done.accept(Result.success(Duration.ZERO));
  }
}
