package dev.verge.zedrouter;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Tests whether a port of an NI can carry its traffic: something beyond the port answers a probe
 * sent from the port's own address. Answers on any thread; zedrouter moves the answer onto its loop.
 */
public interface UplinkProbe {
  void probe(Target target, Consumer<Result> done);

  /** How a target is probed: EVE's next-hop ping, or the NI's remote TCP probe. */
  enum Method {
    /** An ICMP echo to the port's gateway, sent out of the port (the destination's port is 0). */
    ICMP,
    /** A TCP connection to the NI's custom probe target from the port's address. */
    TCP
  }

  /**
   * @param label the port's label, for the result's wording
   * @param source the port's address: nim's per-port rules route what leaves from it out of the port
   * @param destination what must answer: the NI's custom probe target or the port's gateway
   */
  record Target(Method method, String label, String ifName, InetAddress source, InetSocketAddress destination,
      Duration timeout) {
    public Target {
      Objects.requireNonNull(method);
      Objects.requireNonNull(label);
      Objects.requireNonNull(ifName);
      Objects.requireNonNull(source);
      Objects.requireNonNull(destination);
      Objects.requireNonNull(timeout);
    }
  }

  /**
   * @param error why it failed, empty on success
   * @param roundTrip how long the answer took (zero when unknown or failed)
   */
  record Result(boolean ok, String error, Duration roundTrip) {
    public Result {
      Objects.requireNonNull(error);
      Objects.requireNonNull(roundTrip);
    }

    public static Result success() {
      return new Result(true, "", Duration.ZERO);
    }

    public static Result success(Duration roundTrip) {
      return new Result(true, "", roundTrip);
    }

    public static Result failure(String error) {
      return new Result(false, error, Duration.ZERO);
    }
  }

  /**
   * For a node on the sim host, where no packet leaves: every port nim reports usable passes (the
   * choice then rests on nim's port state and cost alone, as without probing).
   */
  static UplinkProbe localChecksOnly() {
    return (target, done) -> done.accept(Result.success());
  }
}
